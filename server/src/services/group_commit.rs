//! Group commit: requests join a queue and are handled in batches, one transaction per batch,
//! so that under load the lock and the commit are paid once per batch instead of once per
//! request.
//!
//! There is no standing worker: a request joins the queue, and whichever waiting request gets
//! the leader lock first starts a task that handles everything queued (its own request
//! included) until the queue is empty, so that a client hanging up never cuts a batch short.
//! Each request is answered by its batch and returns without waiting for the rest.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::oneshot;

/// A queued request and where its answer goes.
pub struct Waiting<R, A> {
    pub request: R,
    pub reply: oneshot::Sender<A>,
}

/// The queue and its leader lock; cheap to clone.
pub struct GroupCommit<R, A> {
    queue: Arc<Mutex<Vec<Waiting<R, A>>>>,
    leader: Arc<tokio::sync::Mutex<()>>,
}

impl<R, A> Default for GroupCommit<R, A> {
    fn default() -> Self {
        Self {
            queue: Arc::default(),
            leader: Arc::default(),
        }
    }
}

impl<R, A> Clone for GroupCommit<R, A> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
            leader: self.leader.clone(),
        }
    }
}

impl<R: Send + 'static, A: Send + 'static> GroupCommit<R, A> {
    /// Queues `request` and waits for its answer; `handle` handles one batch and answers each
    /// of its requests. `None` if the batch ended without answering (its task failed).
    pub async fn submit<H, Handled>(&self, request: R, handle: H) -> Option<A>
    where
        H: Fn(Vec<Waiting<R, A>>) -> Handled + Clone + Send + 'static,
        Handled: Future<Output = ()> + Send,
    {
        let (reply, mut answer) = oneshot::channel();
        self.lock_queue().push(Waiting { request, reply });
        loop {
            tokio::select! {
                biased;
                answer = &mut answer => return answer.ok(),
                guard = self.leader.clone().lock_owned() => {
                    // Whoever held the lock before has answered every request it took; what is
                    // still queued (this request, unless answered) is ours to handle.
                    let batches = self.clone();
                    let handle = handle.clone();
                    tokio::spawn(async move {
                        loop {
                            let batch = std::mem::take(&mut *batches.lock_queue());
                            if batch.is_empty() {
                                break;
                            }
                            handle(batch).await;
                        }
                        drop(guard);
                    });
                }
            }
        }
    }

    fn lock_queue(&self) -> std::sync::MutexGuard<'_, Vec<Waiting<R, A>>> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
