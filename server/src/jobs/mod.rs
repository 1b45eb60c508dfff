//! Background workers that run beside the web server: mail delivery, ledger sequencing, the
//! ledger's tiles, witnesses and anchors, filings that run out, copies of people's data, and
//! housekeeping.
//!
//! Each worker stops when the shutdown token is cancelled, after finishing the item it is on.

pub mod data_archives;
pub mod filing_deadlines;
pub mod housekeeping;
pub mod ledger_anchors;
pub mod ledger_sequencer;
pub mod ledger_tiles;
pub mod ledger_witnesses;
pub mod mail_outbox;
pub mod sms_outbox;
pub mod supervised;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

/// Starts every worker; the returned set completes once all of them have stopped.
pub fn spawn_all(state: AppState, shutdown: CancellationToken) -> JoinSet<()> {
    let mut set = JoinSet::new();
    set.spawn(mail_outbox::run(state.clone(), shutdown.clone()));
    set.spawn(sms_outbox::run(state.clone(), shutdown.clone()));
    set.spawn(ledger_sequencer::run(state.clone(), shutdown.clone()));
    set.spawn(ledger_tiles::run(state.clone(), shutdown.clone()));
    if state.services.witnesses.required() {
        set.spawn(ledger_witnesses::run(state.clone(), shutdown.clone()));
    }
    if let Some(anchorer) = state.services.anchorer.clone() {
        set.spawn(ledger_anchors::run(state.clone(), anchorer, shutdown.clone()));
    }
    set.spawn(filing_deadlines::run(state.clone(), shutdown.clone()));
    set.spawn(data_archives::run(state.clone(), shutdown.clone()));
    set.spawn(housekeeping::run(state, shutdown));
    set
}
