//! Execution (spec/execution.md): the transactions of a block, run against the state of its
//! parent, give the state whose root the header commits to.
//!
//! Two layers, kept apart on purpose (EXEC-ISO-1):
//! - **protocol state**, the [`Ledger`] (stakes, locked, rewards, suspensions): changed only by
//!   the consensus effects of a block (rewards and slashes, `Ledger::apply`) and by the stake
//!   rules (`Ledger::stake`, `unstake`, `withdraw`), called from [`Tx::Stake`] alone;
//! - **application state**, [`AppState`]: account balances, deployed contracts and each
//!   contract's own storage, changed by [`Tx::Deploy`] and [`Tx::Call`] through the sandbox
//!   ([`vm`]), whose host functions see one contract's storage and nothing else.
//!
//! A transaction that fails (trap, out of gas, out of memory, a refused host call, an invalid
//! module, a bad stake signature) leaves a [`Receipt`] saying why, pays its fee when it can and
//! changes nothing else; the block goes on (EXEC-TX-2). A *block* is invalid only for what its
//! generator controls: an undecodable or oversized transaction, gas limits over the block's,
//! a missing coinbase, or a state root that re-execution does not reproduce (EXEC-BLOCK-1, EXEC-BLOCK-2, EXEC-BLOCK-3).

pub mod samples;
pub mod vm;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

use crate::config::{Genesis, Params};
use crate::encoding::{decode, encode, DecodeError, Reader, Wire};
use crate::hash::{blake2b256, Hash};
use crate::keys::{KeyRing, PublicKey, Signature};
use crate::ledger::Ledger;
use crate::message::merkle_root;
use crate::rules::Rule;

/// An application account: 32 bytes (a provisioner's is [`address_of`] its key).
pub type Address = [u8; 32];

/// Largest encoded transaction (EXEC-BLOCK-1).
pub const MAX_TX_BYTES: usize = 64 * 1024;
/// Largest gas limit of one call (EXEC-VM-2).
pub const MAX_TX_GAS: u64 = 10_000_000;
/// Largest sum of the gas limits of one block's calls (EXEC-BLOCK-1).
pub const BLOCK_GAS_LIMIT: u64 = 200_000_000;
/// Fee of every transaction that is charged at all, on top of its gas (lux).
pub const BASE_FEE: u64 = 1_000;
/// Balance of each genesis provisioner's account (lux): 1,000,000 DUSK.
pub const GENESIS_BALANCE: u64 = 1_000_000_000_000_000;

/// The application account of a provisioner key.
pub fn address_of(pk: &PublicKey) -> Address {
    blake2b256(&[b"SA-ADDRESS-V1", &pk.0])
}

/// A contract's id: the hash of its code.
pub fn contract_id(code: &[u8]) -> Hash {
    blake2b256(&[b"SA-CONTRACT-V1", code])
}

/// A stake operation (spec/execution.md STAKE-1, STAKE-2, STAKE-3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StakeOp {
    /// Move `amount` from the provisioner's account into stake, mature at
    /// `next_epoch(h) + EPOCH` (STAKE-1).
    Stake {
        /// Lux.
        amount: u64,
    },
    /// Return all stake (maturing and locked included) to the account; weight drops to 0
    /// (STAKE-2).
    Unstake,
    /// Move `amount` of rewards to the account (STAKE-3): rewards never become stake by
    /// themselves.
    Withdraw {
        /// Lux.
        amount: u64,
    },
}

impl Wire for StakeOp {
    fn put(&self, out: &mut Vec<u8>) {
        match self {
            StakeOp::Stake { amount } => {
                out.push(0);
                amount.put(out);
            }
            StakeOp::Unstake => out.push(1),
            StakeOp::Withdraw { amount } => {
                out.push(2);
                amount.put(out);
            }
        }
    }
    fn get(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        match r.tag(what)? {
            0 => Ok(StakeOp::Stake {
                amount: u64::get(r, "StakeOp.amount")?,
            }),
            1 => Ok(StakeOp::Unstake),
            2 => Ok(StakeOp::Withdraw {
                amount: u64::get(r, "StakeOp.amount")?,
            }),
            t => Err(r.bad_value(1, what, format!("unknown stake operation {t}"))),
        }
    }
}

/// A transaction of a block payload (spec/encoding.md, "Transactions").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tx {
    /// First transaction of every block: names the round and the generator (EXEC-BLOCK-2).
    Coinbase {
        /// The block's height.
        round: u64,
        /// Its generator.
        generator: PublicKey,
    },
    /// Store a contract. The fee (base + 4 lux per byte) is charged even when the module is
    /// refused.
    Deploy {
        /// Who pays.
        sender: Address,
        /// The WebAssembly module.
        code: Vec<u8>,
    },
    /// Call a contract's `call` export with `input`, with at most `gas_limit` fuel.
    Call {
        /// Who pays.
        sender: Address,
        /// The contract.
        contract: Hash,
        /// Bytes the contract reads with `input_read`.
        input: Vec<u8>,
        /// Fuel limit (≤ [`MAX_TX_GAS`]); pays base + gas used.
        gas_limit: u64,
    },
    /// A stake operation signed by the provisioner's key over
    /// [`stake_digest`]`(provisioner, op, nonce)`.
    Stake {
        /// The provisioner.
        provisioner: PublicKey,
        /// What to do.
        op: StakeOp,
        /// Must equal the provisioner's count of stake operations so far (no replay).
        nonce: u64,
        /// BLS signature of the provisioner.
        signature: Signature,
    },
}

impl Wire for Tx {
    fn put(&self, out: &mut Vec<u8>) {
        match self {
            Tx::Coinbase { round, generator } => {
                out.push(0);
                round.put(out);
                generator.put(out);
            }
            Tx::Deploy { sender, code } => {
                out.push(1);
                sender.put(out);
                code.put(out);
            }
            Tx::Call {
                sender,
                contract,
                input,
                gas_limit,
            } => {
                out.push(2);
                sender.put(out);
                contract.put(out);
                input.put(out);
                gas_limit.put(out);
            }
            Tx::Stake {
                provisioner,
                op,
                nonce,
                signature,
            } => {
                out.push(3);
                provisioner.put(out);
                op.put(out);
                nonce.put(out);
                signature.put(out);
            }
        }
    }
    fn get(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        match r.tag(what)? {
            0 => Ok(Tx::Coinbase {
                round: u64::get(r, "Tx.round")?,
                generator: PublicKey::get(r, "Tx.generator")?,
            }),
            1 => Ok(Tx::Deploy {
                sender: Address::get(r, "Tx.sender")?,
                code: Vec::get(r, "Tx.code")?,
            }),
            2 => Ok(Tx::Call {
                sender: Address::get(r, "Tx.sender")?,
                contract: Hash::get(r, "Tx.contract")?,
                input: Vec::get(r, "Tx.input")?,
                gas_limit: u64::get(r, "Tx.gas_limit")?,
            }),
            3 => Ok(Tx::Stake {
                provisioner: PublicKey::get(r, "Tx.provisioner")?,
                op: StakeOp::get(r, "Tx.op")?,
                nonce: u64::get(r, "Tx.nonce")?,
                signature: Signature::get(r, "Tx.signature")?,
            }),
            t => Err(r.bad_value(1, what, format!("unknown transaction kind {t}"))),
        }
    }
}

impl Tx {
    /// The encoded transaction, as it goes into a payload.
    pub fn encode(&self) -> Vec<u8> {
        encode(self)
    }
    /// A short name of its kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Tx::Coinbase { .. } => "coinbase",
            Tx::Deploy { .. } => "deploy",
            Tx::Call { .. } => "call",
            Tx::Stake { .. } => "stake",
        }
    }
}

/// What a provisioner signs for a stake operation.
pub fn stake_digest(provisioner: &PublicKey, op: &StakeOp, nonce: u64) -> Hash {
    let mut b = Vec::new();
    provisioner.put(&mut b);
    op.put(&mut b);
    nonce.put(&mut b);
    blake2b256(&[b"SA-STAKE-V1", &b])
}

/// How one transaction ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// It ran; its effects are in the state.
    Ok,
    /// It failed; only its fee was charged (`charged` in the receipt, possibly 0).
    Failed {
        /// Stable code (`out-of-gas`, `trap`, `invalid-module`, `bad-signature`, ...).
        code: String,
        /// Why, in words.
        reason: String,
    },
}

/// The record of one transaction's execution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// Index in the payload.
    pub index: u32,
    /// Kind of transaction.
    pub kind: String,
    /// Outcome.
    pub status: Status,
    /// Fuel used (calls).
    pub gas_used: u64,
    /// Fee charged (lux).
    pub fee: u64,
}

impl Receipt {
    /// Whether it failed.
    pub fn failed(&self) -> bool {
        matches!(self.status, Status::Failed { .. })
    }
}

/// Application state: balances, contracts, each contract's storage, fees collected.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppState {
    /// Balances (lux).
    pub balances: BTreeMap<Address, u64>,
    /// Deployed code by contract id.
    pub contracts: BTreeMap<Hash, Arc<Vec<u8>>>,
    /// Each contract's storage.
    pub storage: BTreeMap<Hash, BTreeMap<Vec<u8>, Vec<u8>>>,
    /// Stake operations performed per provisioner (the next nonce).
    pub stake_nonces: BTreeMap<PublicKey, u64>,
    /// Fees collected (burned).
    pub fees: u64,
}

impl AppState {
    /// The application state of block 0: every genesis provisioner's account holds
    /// [`GENESIS_BALANCE`].
    pub fn genesis(g: &Genesis) -> AppState {
        AppState {
            balances: g
                .provisioners
                .iter()
                .map(|p| (address_of(&p.key), GENESIS_BALANCE))
                .collect(),
            ..Default::default()
        }
    }
}

/// The state root (EXEC-ROOT-1): the Merkle root (spec/encoding.md §4) of one leaf per ledger
/// account, the ledger's totals, one per balance, one per contract, one per storage entry and
/// the fees, in this order, each leaf the encoding of a tag and its fields.
pub fn state_root(ledger: &Ledger, app: &AppState) -> Hash {
    Rule::ExecRoot1.applies();
    let mut leaves: Vec<Vec<u8>> = Vec::new();
    for (pk, a) in &ledger.accounts {
        let mut l = vec![b'A'];
        pk.put(&mut l);
        for v in [
            a.stake,
            a.locked,
            a.reward,
            a.maturing,
            a.matures_at,
            a.eligible_from,
            a.suspended_until,
        ] {
            v.put(&mut l);
        }
        a.soft_faults.put(&mut l);
        a.hard_faults.put(&mut l);
        leaves.push(l);
    }
    let mut l = vec![b'T'];
    ledger.dusk_fund.put(&mut l);
    ledger.burned.put(&mut l);
    leaves.push(l);
    for (pk, round, iteration) in &ledger.punished {
        let mut l = vec![b'P'];
        pk.put(&mut l);
        round.put(&mut l);
        iteration.put(&mut l);
        leaves.push(l);
    }
    for (a, b) in &app.balances {
        let mut l = vec![b'B'];
        a.put(&mut l);
        b.put(&mut l);
        leaves.push(l);
    }
    for (pk, n) in &app.stake_nonces {
        let mut l = vec![b'N'];
        pk.put(&mut l);
        n.put(&mut l);
        leaves.push(l);
    }
    for (id, code) in &app.contracts {
        let mut l = vec![b'C'];
        id.put(&mut l);
        (code.len() as u64).put(&mut l);
        leaves.push(l);
    }
    for (id, st) in &app.storage {
        for (k, v) in st {
            let mut l = vec![b'S'];
            id.put(&mut l);
            k.put(&mut l);
            v.put(&mut l);
            leaves.push(l);
        }
    }
    let mut l = vec![b'F'];
    app.fees.put(&mut l);
    leaves.push(l);
    merkle_root(&leaves)
}

/// Why a block's payload is invalid (the block, not one transaction).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// EXEC-BLOCK-1.
    #[error("transaction {index}: {problem}")]
    Malformed {
        /// Index in the payload.
        index: usize,
        /// What is wrong.
        problem: String,
    },
    /// EXEC-BLOCK-2.
    #[error("the first transaction must be the coinbase of round {round} by the generator")]
    Coinbase {
        /// The block's height.
        round: u64,
    },
    /// EXEC-BLOCK-1.
    #[error("the calls' gas limits sum to {0}, above the block's {BLOCK_GAS_LIMIT}")]
    BlockGas(u64),
    /// EXEC-BLOCK-3.
    #[error("state root {claimed} in the header, re-execution gives {computed}")]
    StateRoot {
        /// The header's.
        claimed: String,
        /// Ours.
        computed: String,
    },
}

/// The state after a block.
#[derive(Clone, Debug, PartialEq)]
pub struct Post {
    /// Protocol state.
    pub ledger: Ledger,
    /// Application state.
    pub app: Arc<AppState>,
    /// One receipt per transaction after the coinbase.
    pub receipts: Vec<Receipt>,
    /// Its root.
    pub root: Hash,
}

fn engine() -> &'static wasmi::Engine {
    static ENGINE: OnceLock<wasmi::Engine> = OnceLock::new();
    ENGINE.get_or_init(vm::engine)
}

/// Decodes a payload and checks what makes a block invalid before anything runs
/// (EXEC-BLOCK-1, EXEC-BLOCK-2).
pub fn decode_payload(
    payload: &[Vec<u8>],
    round: u64,
    generator: &PublicKey,
) -> Result<Vec<Tx>, BlockError> {
    Rule::ExecBlock1.applies();
    Rule::ExecBlock2.applies();
    let mut txs = Vec::with_capacity(payload.len());
    let mut gas = 0u64;
    for (index, bytes) in payload.iter().enumerate() {
        if bytes.len() > MAX_TX_BYTES {
            return Err(BlockError::Malformed {
                index,
                problem: format!("{} bytes, above {MAX_TX_BYTES}", bytes.len()),
            });
        }
        let tx: Tx = decode(bytes, "Tx").map_err(|e| BlockError::Malformed {
            index,
            problem: e.to_string(),
        })?;
        match (&tx, index) {
            (
                Tx::Coinbase {
                    round: r,
                    generator: g,
                },
                0,
            ) if *r == round && g == generator => {}
            (_, 0) | (Tx::Coinbase { .. }, _) => return Err(BlockError::Coinbase { round }),
            (Tx::Call { gas_limit, .. }, _) => {
                if *gas_limit > MAX_TX_GAS {
                    return Err(BlockError::Malformed {
                        index,
                        problem: format!("gas limit {gas_limit} above {MAX_TX_GAS}"),
                    });
                }
                gas += gas_limit;
            }
            _ => {}
        }
        txs.push(tx);
    }
    if txs.is_empty() {
        return Err(BlockError::Coinbase { round });
    }
    if gas > BLOCK_GAS_LIMIT {
        return Err(BlockError::BlockGas(gas));
    }
    Ok(txs)
}

fn failed(index: usize, kind: &str, code: &str, reason: String, gas: u64, fee: u64) -> Receipt {
    Rule::ExecTx2.applies();
    Receipt {
        index: index as u32,
        kind: kind.into(),
        status: Status::Failed {
            code: code.into(),
            reason,
        },
        gas_used: gas,
        fee,
    }
}

/// Charges `fee` to `sender`; false (nothing charged) if the balance is short.
fn charge(app: &mut AppState, sender: &Address, fee: u64) -> bool {
    match app.balances.get_mut(sender) {
        Some(b) if *b >= fee => {
            *b -= fee;
            app.fees += fee;
            true
        }
        _ => false,
    }
}

/// Runs the transactions (after the coinbase) of a block at `height` on `ledger` (the parent's
/// ledger with this block's consensus effects applied) and `app`; returns the receipts.
/// Nothing here can fail the block: every failure is one transaction's.
#[allow(
    clippy::too_many_lines,
    reason = "one arm per transaction kind, each with its fee and receipt (spec/execution.md)"
)]
pub fn run_transactions(
    txs: &[Tx],
    height: u64,
    ledger: &mut Ledger,
    app: &mut AppState,
    keys: &KeyRing,
    params: &Params,
) -> Vec<Receipt> {
    Rule::ExecIso1.applies();
    let mut receipts = Vec::with_capacity(txs.len().saturating_sub(1));
    for (index, tx) in txs.iter().enumerate().skip(1) {
        let kind = tx.kind();
        let r = match tx {
            Tx::Coinbase { .. } => unreachable_coinbase(index),
            Tx::Deploy { sender, code } => {
                let fee = BASE_FEE + vm::FUEL_PER_BYTE * code.len() as u64;
                if !charge(app, sender, fee) {
                    failed(
                        index,
                        kind,
                        "insufficient-balance",
                        format!("cannot pay {fee}"),
                        0,
                        0,
                    )
                } else {
                    match vm::validate(engine(), code) {
                        Ok(()) => {
                            let id = contract_id(code);
                            app.contracts
                                .entry(id)
                                .or_insert_with(|| Arc::new(code.clone()));
                            ok(index, kind, 0, fee)
                        }
                        Err(f) => failed(index, kind, f.code(), f.to_string(), 0, fee),
                    }
                }
            }
            Tx::Call {
                sender,
                contract,
                input,
                gas_limit,
            } => {
                let most = BASE_FEE + gas_limit;
                if app.balances.get(sender).copied().unwrap_or(0) < most {
                    failed(
                        index,
                        kind,
                        "insufficient-balance",
                        format!("cannot pay up to {most}"),
                        0,
                        0,
                    )
                } else if let Some(code) = app.contracts.get(contract).cloned() {
                    let empty = BTreeMap::new();
                    let st = app.storage.get(contract).unwrap_or(&empty);
                    let (result, used) = vm::call(engine(), &code, st, input, *gas_limit);
                    let fee = BASE_FEE + used;
                    charge(app, sender, fee);
                    match result {
                        Ok(s) => {
                            if s.storage.is_empty() {
                                app.storage.remove(contract);
                            } else {
                                app.storage.insert(*contract, s.storage);
                            }
                            ok(index, kind, used, fee)
                        }
                        Err(f) => failed(index, kind, f.code(), f.to_string(), used, fee),
                    }
                } else {
                    charge(app, sender, BASE_FEE);
                    failed(
                        index,
                        kind,
                        "no-contract",
                        "no contract with this id".into(),
                        0,
                        BASE_FEE,
                    )
                }
            }
            Tx::Stake {
                provisioner,
                op,
                nonce,
                signature,
            } => stake_tx(
                index,
                provisioner,
                op,
                *nonce,
                signature,
                height,
                ledger,
                app,
                keys,
                params,
            ),
        };
        receipts.push(r);
    }
    receipts
}

fn unreachable_coinbase(index: usize) -> Receipt {
    // decode_payload admits a coinbase only at index 0, which is skipped.
    failed(
        index,
        "coinbase",
        "misplaced",
        "a coinbase after the first transaction".into(),
        0,
        0,
    )
}

fn ok(index: usize, kind: &str, gas: u64, fee: u64) -> Receipt {
    Receipt {
        index: index as u32,
        kind: kind.into(),
        status: Status::Ok,
        gas_used: gas,
        fee,
    }
}

#[allow(clippy::too_many_arguments)]
fn stake_tx(
    index: usize,
    pk: &PublicKey,
    op: &StakeOp,
    nonce: u64,
    signature: &Signature,
    height: u64,
    ledger: &mut Ledger,
    app: &mut AppState,
    keys: &KeyRing,
    params: &Params,
) -> Receipt {
    let kind = "stake";
    if keys
        .verify(pk, &stake_digest(pk, op, nonce), signature)
        .is_err()
    {
        return failed(
            index,
            kind,
            "bad-signature",
            "not signed by the provisioner".into(),
            0,
            0,
        );
    }
    let expected = app.stake_nonces.get(pk).copied().unwrap_or(0);
    if nonce != expected {
        return failed(
            index,
            kind,
            "bad-nonce",
            format!("nonce {nonce}, expected {expected}"),
            0,
            0,
        );
    }
    let addr = address_of(pk);
    if !charge(app, &addr, BASE_FEE) {
        return failed(
            index,
            kind,
            "insufficient-balance",
            format!("cannot pay {BASE_FEE}"),
            0,
            0,
        );
    }
    app.stake_nonces.insert(*pk, expected + 1);
    let result = match op {
        StakeOp::Stake { amount } => {
            let bal = app.balances.get(&addr).copied().unwrap_or(0);
            if bal < *amount {
                Err(format!("balance {bal} below {amount}"))
            } else {
                ledger.stake(pk, *amount, height, params).map(|()| {
                    app.balances.insert(addr, bal - amount);
                })
            }
        }
        StakeOp::Unstake => ledger.unstake(pk).map(|v| {
            *app.balances.entry(addr).or_insert(0) += v;
        }),
        StakeOp::Withdraw { amount } => ledger.withdraw(pk, *amount).map(|()| {
            *app.balances.entry(addr).or_insert(0) += amount;
        }),
    };
    match result {
        Ok(()) => ok(index, kind, 0, BASE_FEE),
        Err(e) => failed(index, kind, "stake-rule", e, 0, BASE_FEE),
    }
}

/// A signed stake transaction (for tests, the testnet's load and tools).
pub fn stake_tx_signed(kp: &crate::keys::Keypair, op: StakeOp, nonce: u64) -> Tx {
    let signature = kp.sign(&stake_digest(&kp.public, &op, nonce));
    Tx::Stake {
        provisioner: kp.public,
        op,
        nonce,
        signature,
    }
}
