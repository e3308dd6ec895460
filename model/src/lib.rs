//! Stateright model of Succinct Attestation. See spec/.
