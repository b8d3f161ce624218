//! The named rules of SPEC.md. Corpus cases cite them, both engines count
//! them as they fire, and a test keeps this list, SPEC.md and the citations
//! in step.

use serde::{Deserialize, Serialize};

macro_rules! rules {
    ($($variant:ident => $name:literal),* $(,)?) => {
        /// One named rule of SPEC.md.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum Rule { $($variant),* }

        impl Rule {
            pub const ALL: &'static [Rule] = &[$(Rule::$variant),*];

            /// The name used in SPEC.md and in corpus citations.
            pub fn name(self) -> &'static str {
                match self { $(Rule::$variant => $name),* }
            }
        }
    };
}

rules! {
    ELit => "E-Lit",
    EVar => "E-Var",
    ELet => "E-Let",
    EDo => "E-Do",
    EIf => "E-If",
    EIfType => "E-If-Type",
    EFn => "E-Fn",
    ELetrec => "E-Letrec",
    ECall => "E-Call",
    ECallNotFn => "E-Call-NotFn",
    ECallArity => "E-Call-Arity",
    EPrim => "E-Prim",
    EPrimType => "E-Prim-Type",
    EOverflow => "E-Overflow",
    EDivZero => "E-DivZero",
    EIndex => "E-Index",
    EEmit => "E-Emit",
    EMark => "E-Mark",
    EEffect => "E-Effect",
    SNew => "S-New",
    SGet => "S-Get",
    SSet => "S-Set",
    POp => "P-Op",
    PErr => "P-Err",
    PEsc => "P-Esc",
    DPerform => "D-Perform",
    DNotEffect => "D-NotEffect",
    DSkip => "D-Skip",
    DHandle => "D-Handle",
    DIntercept => "D-Intercept",
    DObserve => "D-Observe",
    DUnhandled => "D-Unhandled",
    BInstall => "B-Install",
    BReturn => "B-Return",
    BUnwind => "B-Unwind",
    CReturn => "C-Return",
    CRaise => "C-Raise",
    CEffect => "C-Effect",
    IRaise => "I-Raise",
    KResume => "K-Resume",
    KResumeThrow => "K-ResumeThrow",
    KTransfer => "K-Transfer",
    KTransferThrow => "K-TransferThrow",
    KPass => "K-Pass",
    KNotCont => "K-NotCont",
    KOneShot => "K-OneShot",
    KStale => "K-Stale",
    KOutside => "K-Outside",
    KNewCont => "K-NewCont",
    KEnvelope => "K-Envelope",
    KStart => "K-Start",
    KLive => "K-Live",
    XRaise => "X-Raise",
    XNotError => "X-NotError",
    XCatch => "X-Catch",
    XFinally => "X-Finally",
    XFinallyRaise => "X-Finally-Raise",
    XFinallyEscape => "X-Finally-Escape",
    RFuel => "R-Fuel",
    RMemory => "R-Memory",
    RDepth => "R-Depth",
}

impl Rule {
    pub fn from_name(s: &str) -> Option<Rule> {
        Rule::ALL.iter().copied().find(|r| r.name() == s)
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// How many times each rule fired.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCounts(pub Vec<u64>);

impl Default for RuleCounts {
    fn default() -> RuleCounts {
        RuleCounts(vec![0; Rule::ALL.len()])
    }
}

impl RuleCounts {
    #[inline]
    pub fn hit(&mut self, r: Rule) {
        self.0[r.index()] += 1;
    }

    pub fn get(&self, r: Rule) -> u64 {
        self.0[r.index()]
    }

    pub fn add(&mut self, other: &RuleCounts) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a += b;
        }
    }

    /// Rules that never fired.
    pub fn unhit(&self) -> Vec<Rule> {
        Rule::ALL.iter().copied().filter(|r| self.get(*r) == 0).collect()
    }
}
