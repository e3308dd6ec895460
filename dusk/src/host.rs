//! What rusk's node provides to dusk-consensus, reduced to what a trace decides: the
//! `Operations` (a candidate is valid unless its state root is [`INVALID_ROOT`], as the trace
//! says; no transactions, no faults checked) and the `Database` (candidates and the last
//! iteration, which the adapter reads back to observe the crate's iteration).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use dusk_consensus::commons::Database;
use dusk_consensus::errors::{HeaderError, OperationError, StateTransitionError};
use dusk_consensus::operations::{
    Operations, StateRoot, StateTransitionData, StateTransitionResult, Voter,
};
use node_data::bls::PublicKeyBytes;
use node_data::ledger::{Block, Fault, Hash, Header, SpentTransaction};
use node_data::message::payload::ValidationResult;
use node_data::message::ConsensusHeader;
use node_data::StepName;

/// The state root of a valid candidate.
pub const VALID_ROOT: [u8; 32] = [0; 32];
/// The state root that marks a candidate the trace calls invalid: its state transition fails
/// to verify (`StateRootMismatch`, a must-vote error: the crate votes Invalid).
pub const INVALID_ROOT: [u8; 32] = [0xff; 32];

/// The host's operations.
#[derive(Default)]
pub struct Host {
    /// This node, as generator, builds invalid candidates (a misconfigured generator) where
    /// `proposals` does not say.
    pub invalid_proposals: AtomicBool,
    /// Whether its candidate of (round, iteration) is valid: the trace's schedule.
    pub proposals: StdMutex<BTreeMap<(u64, u8), bool>>,
    /// The iteration the crate runs (shared with [`Db`], which learns it).
    pub iteration: Arc<AtomicU8>,
}

#[async_trait::async_trait]
impl Operations for Host {
    async fn validate_block_header(
        &self,
        _candidate_header: &Header,
        _expected_generator: &PublicKeyBytes,
    ) -> Result<Vec<Voter>, HeaderError> {
        // The generator and signature are checked by the crate itself (ProposalHandler);
        // the previous block's attestation is rusk's, not compared here.
        Ok(vec![])
    }

    async fn validate_faults(
        &self,
        _block_height: u64,
        _faults: &[Fault],
    ) -> Result<(), OperationError> {
        Ok(())
    }

    async fn validate_state_transition(
        &self,
        _prev_state: StateRoot,
        blk: &Block,
        _cert_voters: &[Voter],
    ) -> Result<(), OperationError> {
        if blk.header().state_hash == INVALID_ROOT {
            return Err(OperationError::FailedTransitionVerification(
                StateTransitionError::StateRootMismatch(VALID_ROOT, INVALID_ROOT),
            ));
        }
        Ok(())
    }

    async fn generate_state_transition(
        &self,
        transition_data: StateTransitionData,
    ) -> Result<(Vec<SpentTransaction>, StateTransitionResult), OperationError> {
        let iteration = self.iteration.load(Ordering::Relaxed);
        let scheduled = self
            .proposals
            .lock()
            .ok()
            .and_then(|p| p.get(&(transition_data.round, iteration)).copied());
        let valid = scheduled.unwrap_or_else(|| !self.invalid_proposals.load(Ordering::Relaxed));
        let state_root = if valid { VALID_ROOT } else { INVALID_ROOT };
        Ok((
            vec![],
            StateTransitionResult {
                state_root,
                event_bloom: [0; 256],
            },
        ))
    }

    async fn add_step_elapsed_time(
        &self,
        _round: u64,
        _step_name: StepName,
        _elapsed: Duration,
    ) -> Result<(), OperationError> {
        Ok(())
    }

    async fn get_block_gas_limit(&self) -> u64 {
        1_000_000
    }
}

/// The host's database.
#[derive(Default)]
pub struct Db {
    /// (tip hash, iteration) the crate stored last (`store_last_iter`, at each iteration's
    /// start).
    pub last_iter: (Hash, u8),
    /// Candidates the crate stored.
    pub candidates: Vec<Block>,
    /// Where the iteration is told to the host.
    pub iteration: Arc<AtomicU8>,
}

#[async_trait::async_trait]
impl Database for Db {
    async fn store_candidate_block(&mut self, b: Block) {
        self.candidates.push(b);
    }
    async fn store_validation_result(&mut self, _ch: &ConsensusHeader, _vr: &ValidationResult) {}
    async fn get_last_iter(&self) -> (Hash, u8) {
        self.last_iter
    }
    async fn store_last_iter(&mut self, data: (Hash, u8)) {
        self.iteration.store(data.1, Ordering::Relaxed);
        self.last_iter = data;
    }
}
