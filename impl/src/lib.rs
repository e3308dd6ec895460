//! sa-node: production implementation of Succinct Attestation. See spec/.
