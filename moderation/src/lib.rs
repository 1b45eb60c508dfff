//! Content screening for Keepsake.
//!
//! This crate will hold the pure screening rules that every collection passes before a human
//! reviewer sees it: normalised text matching against versioned term lists (including the
//! financialisation terms the regulator forbids), image format sniffing under decode limits,
//! perceptual hashes for blocklist and look-alike checks, and a risk score that combines the
//! findings. It performs no I/O and knows nothing of the database or the web server, so that
//! every rule can be unit-tested and fuzzed on its own.
