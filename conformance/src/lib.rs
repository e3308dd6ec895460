//! Conformance: model traces replayed against sa-node.
