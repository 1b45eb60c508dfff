//! Lingering reads: a request answered before its body was read still has the rest of the
//! body read and discarded, up to a bound, before the answer goes out.
//!
//! Refusals such as a missing CSRF token, a signed-out visitor or a bad API key come before
//! any handler reads the body. Left alone, hyper closes the connection with the body still
//! arriving, the kernel resets it, and a client busy sending an upload sees a broken pipe
//! instead of the error page or JSON error meant for it.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};

use crate::domain::attestation::MAX_ATTESTED_FILE_BYTES;

/// At most this much unread body is discarded: the largest body any route accepts.
const DRAIN_LIMIT: usize = MAX_ATTESTED_FILE_BYTES + 64 * 1024;

/// A client that trickles its body gets no more than this before the connection is closed.
const DRAIN_TIME: Duration = Duration::from_secs(10);

/// What is left of a request body that was dropped before its end.
type Unread = Arc<Mutex<Option<Body>>>;

pub async fn drain(request: Request, next: Next) -> Response {
    let unread = Unread::default();
    let request = request.map(|body| {
        Body::new(Watched {
            body,
            finished: false,
            unread: Arc::clone(&unread),
        })
    });
    let response = next.run(request).await;
    let rest = unread.lock().ok().and_then(|mut rest| rest.take());
    if let Some(rest) = rest {
        discard(rest).await;
    }
    response
}

async fn discard(mut body: Body) {
    let read_to_end = async {
        let mut read = 0;
        while let Some(Ok(frame)) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
            read += frame.data_ref().map_or(0, Bytes::len);
            if read > DRAIN_LIMIT {
                return;
            }
        }
    };
    if tokio::time::timeout(DRAIN_TIME, read_to_end).await.is_err() {
        tracing::debug!("gave up reading an unread request body");
    }
}

/// A request body that hands what is left of itself back to [`drain`] when dropped early.
struct Watched {
    body: Body,
    finished: bool,
    unread: Unread,
}

impl HttpBody for Watched {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        let frame = Pin::new(&mut this.body).poll_frame(cx);
        if matches!(frame, Poll::Ready(None | Some(Err(_)))) {
            this.finished = true;
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        if self.finished || self.body.is_end_stream() {
            return;
        }
        if let Ok(mut unread) = self.unread.lock() {
            *unread = Some(std::mem::take(&mut self.body));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::Router;
    use axum::middleware;
    use axum::routing::post;
    use tower::ServiceExt;

    use super::*;

    const CHUNK: usize = 64 * 1024;
    static ZEROS: [u8; CHUNK] = [0; CHUNK];

    /// A request body of `chunks` frames that counts how many of them were read.
    struct Upload {
        chunks: usize,
        read: Arc<AtomicUsize>,
    }

    impl HttpBody for Upload {
        type Data = Bytes;
        type Error = axum::Error;

        fn poll_frame(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
            let read = self.read.fetch_add(1, Ordering::SeqCst);
            if read >= self.chunks {
                return Poll::Ready(None);
            }
            Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(&ZEROS)))))
        }
    }

    /// Sends `bytes` of body to a route that refuses it unread (or reads it, if `reads`) and
    /// returns how many chunks were read in all.
    async fn send(bytes: usize, reads: bool) -> usize {
        let read = Arc::new(AtomicUsize::new(0));
        let app = Router::new()
            .route(
                "/upload",
                post(move |body: Body| async move {
                    if reads {
                        axum::body::to_bytes(body, usize::MAX).await.unwrap();
                    }
                    "answered"
                }),
            )
            .layer(middleware::from_fn(drain));
        let body = Upload {
            chunks: bytes / CHUNK,
            read: Arc::clone(&read),
        };
        let request = Request::post("/upload").body(Body::new(body)).unwrap();
        let response = app.oneshot(request).await.unwrap();
        assert!(response.status().is_success());
        read.load(Ordering::SeqCst)
    }

    #[tokio::test]
    async fn a_body_left_unread_is_read_to_its_end() {
        assert_eq!(send(CHUNK * 16, false).await, 16 + 1, "every chunk and the end");
    }

    #[tokio::test]
    async fn a_body_read_by_the_handler_is_not_read_again() {
        assert_eq!(send(CHUNK * 16, true).await, 16 + 1);
    }

    #[tokio::test]
    async fn no_more_than_the_limit_is_discarded() {
        let read = send(DRAIN_LIMIT * 2, false).await;
        assert_eq!(read, DRAIN_LIMIT / CHUNK + 1, "stops at the first chunk past the limit");
    }
}
