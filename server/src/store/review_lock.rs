//! The review lock every case carries (identity checks, issuer applications, collections): a
//! reviewer takes it for a while with a compare-and-set, so no two reviewers decide one case;
//! only its holder decides while it is live; a decision releases it.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, UpdateMany};

use crate::domain::ids::UserId;
use crate::domain::review_queue::{ClaimShown, QueueView};

/// The lock's columns in one table: who holds it, and until when.
pub(crate) struct ReviewLock<C> {
    pub by: C,
    pub until: C,
}

impl<C: ColumnTrait> ReviewLock<C> {
    /// `update` takes the lock for `reviewer` until `until`, unless another reviewer holds it
    /// live at `now` (a reviewer may take their own lock again, extending it).
    pub fn take<E: EntityTrait<Column = C>>(
        &self,
        update: UpdateMany<E>,
        reviewer: UserId,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> UpdateMany<E> {
        let free = Condition::any()
            .add(self.by.is_null())
            .add(self.by.eq(reviewer.0))
            .add(self.until.lt(now));
        update
            .col_expr(self.by, Expr::value(reviewer.0))
            .col_expr(self.until, Expr::value(until))
            .filter(free)
    }

    /// `update` applies only while `reviewer` holds the lock live at `now`.
    pub fn held_by<E: EntityTrait<Column = C>>(
        &self,
        update: UpdateMany<E>,
        reviewer: UserId,
        now: DateTime<Utc>,
    ) -> UpdateMany<E> {
        update.filter(self.by.eq(reviewer.0)).filter(self.until.gte(now))
    }

    /// The cases `view` shows, as [`QueueView::shows`] decides it.
    pub fn shown(&self, view: &QueueView) -> Condition {
        match view.claim {
            ClaimShown::Any => Condition::all(),
            ClaimShown::Mine => Condition::all()
                .add(self.by.eq(view.reviewer.0))
                .add(self.until.gte(view.now)),
            ClaimShown::Unclaimed => Condition::any()
                .add(self.by.is_null())
                .add(self.until.is_null())
                .add(self.until.lt(view.now)),
        }
    }

    /// `update` releases the lock.
    pub fn release<E: EntityTrait<Column = C>>(&self, update: UpdateMany<E>) -> UpdateMany<E> {
        update
            .col_expr(self.by, Expr::value(Option::<i64>::None))
            .col_expr(self.until, Expr::value(Option::<DateTime<Utc>>::None))
    }
}
