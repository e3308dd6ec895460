//! The contract sandbox (spec/execution.md EXEC-VM-*): WebAssembly run by `wasmi` with fuel
//! metering, a memory limit, a recursion limit and exactly four host functions, all of which
//! read or write the calling contract's own storage or its call input. No host function reaches
//! protocol state: stakes, the provisioner set, parameters and other contracts' storage are not
//! in the sandbox's reach at all (the host state holds only the contract's own storage view).
//!
//! A call either returns `Ok` with the contract's writes, or fails with a [`Failure`]; a failed
//! call's writes are dropped by the caller (EXEC-TX-2). Every path is deterministic: fuel, not
//! time, bounds execution; memory growth past the limit traps; nothing reads a clock.

use crate::rules::Rule;

use super::Storage;

use wasmi::{
    Caller, Config, EnforcedLimits, Engine, Linker, Module, Store, StoreLimits, StoreLimitsBuilder,
    TrapCode,
};

/// Per-call resource limits (spec/execution.md EXEC-VM-2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Linear memory of one instance, bytes.
    pub memory_bytes: usize,
    /// Nested calls, at most.
    pub recursion_depth: usize,
    /// Largest storage key, bytes.
    pub max_key: usize,
    /// Largest storage value, bytes.
    pub max_value: usize,
    /// Storage entries of one contract, at most.
    pub max_entries: usize,
}

/// The limits every node applies (part of the protocol: a node with other limits computes
/// other state roots).
pub const LIMITS: Limits = Limits {
    memory_bytes: 1 << 20,
    recursion_depth: 256,
    max_key: 64,
    max_value: 1024,
    max_entries: 256,
};

/// Fuel charged per byte moved through a host function (EXEC-VM-3).
pub const FUEL_PER_BYTE: u64 = 4;
/// Fuel charged per host call on top of its bytes.
pub const FUEL_PER_HOST_CALL: u64 = 100;

/// Why a call failed. The receipt carries it (spec/execution.md EXEC-TX-2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The module does not validate (or is not WebAssembly).
    InvalidModule(String),
    /// It imports something the sandbox does not offer, or lacks `memory`/`call` exports.
    BadInterface(String),
    /// It ran out of fuel (the call's gas limit).
    OutOfGas,
    /// It tried to grow memory (or a table) past the limit.
    OutOfMemory,
    /// Recursion past the limit.
    StackOverflow,
    /// A host function refused its arguments (out-of-bounds pointer, oversized key or value,
    /// storage full).
    HostRefused(String),
    /// Any other trap (`unreachable`, out-of-bounds access, division by zero, ...).
    Trap(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::InvalidModule(e) => write!(f, "module does not validate: {e}"),
            Failure::BadInterface(e) => write!(f, "bad contract interface: {e}"),
            Failure::OutOfGas => write!(f, "out of gas"),
            Failure::OutOfMemory => write!(f, "out of memory"),
            Failure::StackOverflow => write!(f, "stack overflow (recursion too deep)"),
            Failure::HostRefused(e) => write!(f, "host function refused: {e}"),
            Failure::Trap(e) => write!(f, "trap: {e}"),
        }
    }
}

impl Failure {
    /// A short stable code for receipts, logs and counts.
    pub fn code(&self) -> &'static str {
        match self {
            Failure::InvalidModule(_) => "invalid-module",
            Failure::BadInterface(_) => "bad-interface",
            Failure::OutOfGas => "out-of-gas",
            Failure::OutOfMemory => "out-of-memory",
            Failure::StackOverflow => "stack-overflow",
            Failure::HostRefused(_) => "host-refused",
            Failure::Trap(_) => "trap",
        }
    }
}

/// What a successful call did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Success {
    /// Fuel used.
    pub gas_used: u64,
    /// The contract's storage after the call (its own storage only; shares what the call did
    /// not change with the storage it was given).
    pub storage: Storage,
}

/// The engine configuration every node uses.
pub fn engine() -> Engine {
    let mut c = Config::default();
    // Eager: every function is translated when the module is loaded. wasmi's default
    // (lazy translation) charges a function's translation to the fuel of the call that first
    // runs it, so a node that had the module cached (EXEC-VM-4) charged less gas for the same
    // call than one that had not: a different fee, a different state root (found by
    // tests/exec_fuzz.rs when the cache came in).
    c.compilation_mode(wasmi::CompilationMode::Eager);
    c.consume_fuel(true)
        .set_max_recursion_depth(LIMITS.recursion_depth)
        .enforced_limits(EnforcedLimits::strict())
        .floats(false)
        .wasm_multi_memory(false)
        .wasm_memory64(false)
        .allow_start_fn(false);
    Engine::new(&c)
}

/// Checks that `code` is a module the sandbox would run (EXEC-VM-1): it validates under the
/// engine's configuration (no floats, no SIMD, strict structural limits) and imports only the
/// host functions below.
pub fn validate(engine: &Engine, code: &[u8]) -> Result<(), Failure> {
    Rule::ExecVm1.applies();
    load(engine, code).map(|_| ())
}

/// The module of `code`, if it passes [`validate`] (parsed and validated: the costly part
/// of a call, which callers may cache by contract id).
pub fn load(engine: &Engine, code: &[u8]) -> Result<Module, Failure> {
    let module =
        Module::new(engine, code).map_err(|e| Failure::InvalidModule(stable(e.to_string())))?;
    for import in module.imports() {
        if import.module() != "env" || !HOST_FUNCTIONS.contains(&import.name()) {
            return Err(Failure::BadInterface(format!(
                "imports {}.{}, which the sandbox does not offer",
                import.module(),
                import.name()
            )));
        }
    }
    Ok(module)
}

/// The host functions, all in module `env`.
pub const HOST_FUNCTIONS: [&str; 4] = ["input_len", "input_read", "storage_get", "storage_set"];

struct Host {
    limits: StoreLimits,
    input: Vec<u8>,
    storage: Storage,
    refused: Option<String>,
}

fn refuse(caller: &mut Caller<'_, Host>, why: String) -> wasmi::Error {
    caller.data_mut().refused = Some(why.clone());
    wasmi::Error::new(why)
}

/// Charges host-call fuel; running out is the same trap as in wasm code.
fn charge(caller: &mut Caller<'_, Host>, bytes: usize) -> Result<(), wasmi::Error> {
    Rule::ExecVm3.applies();
    let cost = FUEL_PER_HOST_CALL + FUEL_PER_BYTE * bytes as u64;
    let fuel = caller.get_fuel()?;
    if fuel < cost {
        caller.set_fuel(0)?;
        return Err(wasmi::Error::from(TrapCode::OutOfFuel));
    }
    caller.set_fuel(fuel - cost)
}

/// The caller's memory bytes `[ptr, ptr+len)`, checked.
fn range(
    caller: &mut Caller<'_, Host>,
    ptr: i32,
    len: i32,
    what: &str,
) -> Result<(wasmi::Memory, usize, usize), wasmi::Error> {
    let Some(mem) = caller.get_export("memory").and_then(|e| e.into_memory()) else {
        return Err(refuse(caller, "the contract exports no memory".into()));
    };
    let (p, l) = (ptr as u32 as usize, len as u32 as usize);
    if ptr < 0 || len < 0 || p.saturating_add(l) > mem.data_size(&*caller) {
        return Err(refuse(
            caller,
            format!("{what}: bytes {ptr}..{ptr}+{len} are outside the contract's memory"),
        ));
    }
    Ok((mem, p, l))
}

#[allow(
    clippy::too_many_lines,
    reason = "one host function per block, the sandbox's whole interface in one place (EXEC-VM-2, EXEC-VM-3)"
)]
fn linker(engine: &Engine) -> Linker<Host> {
    let mut l = Linker::<Host>::new(engine);
    l.func_wrap("env", "input_len", |caller: Caller<'_, Host>| -> i32 {
        caller.data().input.len() as i32
    })
    .expect("fresh linker");
    l.func_wrap(
        "env",
        "input_read",
        |mut caller: Caller<'_, Host>, ptr: i32| -> Result<(), wasmi::Error> {
            let n = caller.data().input.len();
            charge(&mut caller, n)?;
            let (mem, p, _) = range(&mut caller, ptr, n as i32, "input_read")?;
            let input = std::mem::take(&mut caller.data_mut().input);
            let r = mem.write(&mut caller, p, &input);
            caller.data_mut().input = input;
            r.map_err(|e| wasmi::Error::new(e.to_string()))
        },
    )
    .expect("fresh linker");
    l.func_wrap(
        "env",
        "storage_get",
        |mut caller: Caller<'_, Host>,
         kp: i32,
         kl: i32,
         out: i32,
         cap: i32|
         -> Result<i32, wasmi::Error> {
            if kl as u32 as usize > LIMITS.max_key {
                return Err(refuse(
                    &mut caller,
                    format!("storage_get: key of {kl} bytes"),
                ));
            }
            let (mem, p, l) = range(&mut caller, kp, kl, "storage_get key")?;
            let mut key = vec![0; l];
            mem.read(&caller, p, &mut key)
                .map_err(|e| wasmi::Error::new(e.to_string()))?;
            let Some(value) = caller.data().storage.get(&key).cloned() else {
                charge(&mut caller, l)?;
                return Ok(-1);
            };
            charge(&mut caller, l + value.len())?;
            let (mem, o, c) = range(&mut caller, out, cap, "storage_get output")?;
            let n = value.len().min(c);
            mem.write(&mut caller, o, &value[..n])
                .map_err(|e| wasmi::Error::new(e.to_string()))?;
            Ok(value.len() as i32)
        },
    )
    .expect("fresh linker");
    l.func_wrap(
        "env",
        "storage_set",
        |mut caller: Caller<'_, Host>,
         kp: i32,
         kl: i32,
         vp: i32,
         vl: i32|
         -> Result<(), wasmi::Error> {
            if kl as u32 as usize > LIMITS.max_key || vl as u32 as usize > LIMITS.max_value {
                return Err(refuse(
                    &mut caller,
                    format!(
                        "storage_set: key of {kl} bytes or value of {vl} bytes (limits {} and {})",
                        LIMITS.max_key, LIMITS.max_value
                    ),
                ));
            }
            let (mem, p, l) = range(&mut caller, kp, kl, "storage_set key")?;
            let (_, q, m) = range(&mut caller, vp, vl, "storage_set value")?;
            charge(&mut caller, l + m)?;
            let mut key = vec![0; l];
            let mut value = vec![0; m];
            mem.read(&caller, p, &mut key)
                .and_then(|()| mem.read(&caller, q, &mut value))
                .map_err(|e| wasmi::Error::new(e.to_string()))?;
            let st = &mut caller.data_mut().storage;
            if !st.contains_key(&key) && st.len() >= LIMITS.max_entries {
                return Err(refuse(
                    &mut caller,
                    format!(
                        "storage_set: the contract already has {} entries",
                        LIMITS.max_entries
                    ),
                ));
            }
            caller.data_mut().storage.insert(key, value);
            Ok(())
        },
    )
    .expect("fresh linker");
    l
}

/// Runs `code`'s exported `call` with `input` against `storage` (the contract's own storage),
/// with at most `gas_limit` fuel. Never panics on any module or input.
pub fn call(
    engine: &Engine,
    code: &[u8],
    storage: &Storage,
    input: &[u8],
    gas_limit: u64,
) -> (Result<Success, Failure>, u64) {
    match load(engine, code) {
        Ok(module) => run(engine, &module, storage, input, gas_limit),
        Err(f) => (Err(f), 0),
    }
}

/// Runs a module [`load`]ed with `engine`, as [`call`] does.
pub fn run(
    engine: &Engine,
    module: &Module,
    storage: &Storage,
    input: &[u8],
    gas_limit: u64,
) -> (Result<Success, Failure>, u64) {
    Rule::ExecVm2.applies();
    let host = Host {
        limits: StoreLimitsBuilder::new()
            .memory_size(LIMITS.memory_bytes)
            .memories(1)
            .tables(1)
            .table_elements(1024)
            .instances(1)
            .trap_on_grow_failure(true)
            .build(),
        input: input.to_vec(),
        storage: storage.clone(),
        refused: None,
    };
    let mut store = Store::new(engine, host);
    store.limiter(|h| &mut h.limits);
    if store.set_fuel(gas_limit).is_err() {
        return (Err(Failure::Trap("fuel metering is off".into())), 0);
    }
    let used = |store: &Store<Host>| gas_limit - store.get_fuel().unwrap_or(0);
    let instance = match linker(engine).instantiate_and_start(&mut store, module) {
        Ok(i) => i,
        Err(e) => {
            let f = classify(&e, &store);
            let f = match f {
                Failure::Trap(m) => Failure::BadInterface(m),
                f => f,
            };
            return (Err(f), used(&store));
        }
    };
    if instance.get_memory(&store, "memory").is_none() {
        return (
            Err(Failure::BadInterface(
                "exports no memory named `memory`".into(),
            )),
            used(&store),
        );
    }
    let Ok(f) = instance.get_typed_func::<(), ()>(&store, "call") else {
        return (
            Err(Failure::BadInterface(
                "exports no function `call` of type () -> ()".into(),
            )),
            used(&store),
        );
    };
    match f.call(&mut store, ()) {
        Ok(()) => {
            let gas_used = used(&store);
            (
                Ok(Success {
                    gas_used,
                    storage: store.into_data().storage,
                }),
                gas_used,
            )
        }
        Err(e) => {
            let f = classify(&e, &store);
            // Out of gas uses the whole limit (the engine may stop before spending the rest).
            let gas = if f == Failure::OutOfGas {
                gas_limit
            } else {
                used(&store)
            };
            (Err(f), gas)
        }
    }
}

/// An engine message without what differs between runs: wasmi names stores and handles by
/// process-wide counters (`StoreId(6652)`), and a receipt must read the same on every node.
fn stable(msg: String) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg.as_str();
    while let Some(at) = rest.find("StoreId(") {
        let (head, tail) = rest.split_at(at + "StoreId(".len());
        out.push_str(head);
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        out.push('_');
        rest = &tail[digits..];
    }
    out.push_str(rest);
    out
}

fn classify(e: &wasmi::Error, store: &Store<Host>) -> Failure {
    if let Some(why) = &store.data().refused {
        return Failure::HostRefused(why.clone());
    }
    match e.as_trap_code() {
        Some(TrapCode::OutOfFuel) => Failure::OutOfGas,
        Some(TrapCode::GrowthOperationLimited | TrapCode::OutOfSystemMemory) => {
            Failure::OutOfMemory
        }
        Some(TrapCode::StackOverflow) => Failure::StackOverflow,
        Some(c) => Failure::Trap(c.trap_message().to_string()),
        None => {
            let m = stable(e.to_string());
            if m.contains("resource limit") || m.contains("memory") && m.contains("limit") {
                Failure::OutOfMemory
            } else {
                Failure::Trap(m)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn engine_handles_are_taken_out_of_messages() {
        assert_eq!(
            super::stable("Table(Stored { store: StoreId(6652), value: x }) at StoreId(7)".into()),
            "Table(Stored { store: StoreId(_), value: x }) at StoreId(_)"
        );
        assert_eq!(super::stable("plain".into()), "plain");
    }
}
