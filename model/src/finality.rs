//! Block labels: PNI, Accepted/Attested, the walk-back to Confirmed, and Final (FIN-1, FIN-2, FIN-3, FIN-4).

use crate::config::{Config, Finality};
use crate::mutations::Mutation;
use crate::rules::Rule;
use crate::state::{Entry, Label};

/// PNI: previous non-attested iterations = iteration − Fail attestations recorded (FIN-1).
pub fn pni(config: &Config, e: &Entry) -> u8 {
    Rule::Fin1.applies();
    let reference =
        e.iteration.min(config.protocol.max_iterations) - e.failed.below(e.iteration).count();
    if config.broken(Rule::Fin1).contains(Mutation::IgnorePni) {
        if reference != 0 {
            Mutation::IgnorePni.hit();
        }
        return 0;
    }
    reference
}

/// `confirmed_after = 2·PNI` (FIN-2). Under VAR-FIN-CLOSED a block with PNI > 0 is never
/// confirmed (`u32::MAX`).
pub fn confirmed_after(config: &Config, e: &Entry) -> u32 {
    let pni = pni(config, e);
    if pni > 0 && config.protocol.finality == Finality::Closed {
        return u32::MAX;
    }
    2 * u32::from(pni)
}

/// Appends an accepted block and relabels the chain (FIN-1, FIN-2, FIN-3, FIN-4).
///
/// The new block is Attested when PNI = 0, else Accepted. When it is Attested, walk back from
/// the block below it with `stable = 1`: a Confirmed block adds 1; an Accepted/Attested block
/// with `confirmed_after ≤ stable` becomes Confirmed and adds 1; otherwise stop. Then the
/// consecutive Confirmed blocks just above the last Final block become Final.
pub fn push(config: &Config, chain: &mut Vec<Entry>, mut block: Entry) {
    Rule::Fin2.applies();
    Rule::Fin3.applies();
    block.label = if pni(config, &block) == 0 {
        Label::Attested
    } else {
        Label::Accepted
    };
    if config
        .broken(Rule::Fin2)
        .contains(Mutation::FinalizeOnAccept)
    {
        Mutation::FinalizeOnAccept.hit();
        block.label = Label::Final;
        chain.push(block);
        return;
    }
    let attested = block.label == Label::Attested;
    chain.push(block);
    if !attested {
        return;
    }
    if config.broken(Rule::Fin3).contains(Mutation::NoWalkBack) {
        if chain.len() > 1 {
            Mutation::NoWalkBack.hit();
        }
        return;
    }
    let first_open = chain
        .iter()
        .rposition(|e| e.label == Label::Final)
        .map_or(0, |k| k + 1);
    let top = chain.len() - 1;
    let mut stable = 1u32;
    for k in (first_open..top).rev() {
        if chain[k].label == Label::Confirmed {
            stable += 1;
        } else if confirmed_after(config, &chain[k]) <= stable {
            chain[k].label = Label::Confirmed;
            stable += 1;
        } else {
            break;
        }
    }
    for e in chain[first_open..top].iter_mut() {
        if e.label == Label::Confirmed {
            e.label = Label::Final;
        } else {
            break;
        }
    }
    if config.broken(Rule::Fin3).contains(Mutation::FinalizeParent)
        && top > 0
        && chain[top - 1].label != Label::Final
    {
        Mutation::FinalizeParent.hit();
        chain[top - 1].label = Label::Final;
    }
}
