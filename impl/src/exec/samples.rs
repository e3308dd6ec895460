//! Sample contracts, as WebAssembly text: one benign contract and the hostile ones the sandbox
//! must contain (spec/execution.md, "Tests"). Used by the hostile-contract tests and by
//! `sa testnet --hostile-load`.

/// Stores its input under the key `k` (the benign contract).
pub const BENIGN: &str = r#"(module
  (import "env" "input_len" (func $len (result i32)))
  (import "env" "input_read" (func $read (param i32)))
  (import "env" "storage_set" (func $set (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "k")
  (func (export "call")
    (call $read (i32.const 16))
    (call $set (i32.const 0) (i32.const 1) (i32.const 16) (call $len))))"#;

/// The hostile contracts: (name, WebAssembly text, the receipt code its call or deployment
/// ends with).
pub const HOSTILE: [(&str, &str, &str); 8] = [
    (
        "infinite loop",
        r#"(module (memory (export "memory") 1)
             (func (export "call") (loop $l (br $l))))"#,
        "out-of-gas",
    ),
    (
        "unbounded memory growth",
        r#"(module (memory (export "memory") 1)
             (func (export "call")
               (loop $l (drop (memory.grow (i32.const 1))) (br $l))))"#,
        "out-of-memory",
    ),
    (
        // A failed memory.grow (past the module's own maximum) until the gas runs out: with
        // wasmi's default tail-call dispatch this instruction's failure path called the next
        // handler without returning, the host's stack overflowed and the process aborted
        // (found by tests/exec_fuzz.rs); the workspace builds wasmi with its loop dispatch.
        "memory.grow past the declared maximum in a loop",
        r#"(module (memory (export "memory") 1 1)
             (func (export "call")
               (loop $l (drop (memory.grow (i32.const 1))) (br $l))))"#,
        "out-of-gas",
    ),
    (
        "deep recursion",
        r#"(module (memory (export "memory") 1)
             (func $f (export "call") (call $f)))"#,
        "stack-overflow",
    ),
    (
        "huge allocation",
        r#"(module (memory (export "memory") 1)
             (func (export "call") (drop (memory.grow (i32.const 60000)))))"#,
        "out-of-memory",
    ),
    (
        "panic",
        r#"(module (memory (export "memory") 1)
             (func (export "call") unreachable))"#,
        "trap",
    ),
    (
        "host call with forged arguments",
        r#"(module
             (import "env" "storage_set" (func $set (param i32 i32 i32 i32)))
             (memory (export "memory") 1)
             (func (export "call")
               (call $set (i32.const -8) (i32.const 4) (i32.const 65530) (i32.const 100000))))"#,
        "host-refused",
    ),
    (
        "import of protocol state",
        r#"(module
             (import "env" "set_stake" (func $s (param i32 i64)))
             (memory (export "memory") 1)
             (func (export "call") (call $s (i32.const 0) (i64.const 1000000))))"#,
        "bad-interface",
    ),
];

/// A module that does not validate (an `i32.add` with one operand), and its receipt code.
pub const INVALID_MODULE: (&str, &[u8], &str) = (
    "module that does not validate",
    b"\0asm\x01\0\0\0\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x0a\x06\x01\x04\x00\x41\x01\x6a\x0b",
    "invalid-module",
);

/// The binary of a text module above.
pub fn compile(text: &str) -> Vec<u8> {
    wat::parse_str(text).expect("the sample contracts are valid text")
}

/// Every hostile module as (name, binary, expected receipt code), the invalid one included.
pub fn hostile() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let mut v: Vec<_> = HOSTILE
        .iter()
        .map(|(name, text, code)| (*name, compile(text), *code))
        .collect();
    v.push((
        INVALID_MODULE.0,
        INVALID_MODULE.1.to_vec(),
        INVALID_MODULE.2,
    ));
    v
}
