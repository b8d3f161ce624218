//! The property the whole crate exists for, as a proptest: on generated
//! programs the two engines agree. Failures persist in
//! `proptest-regressions/` (committed) and are replayed first.

use kont_difftest::gen::strategy;
use kont_difftest::oracle::{check, Coverage, Verdict};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn reference_and_vm_agree(case in strategy()) {
        let v = check(&case, &kont_reference::Reference, &kont_vm::Vm, &mut Coverage::default());
        if let Verdict::Mismatch(m) = v {
            prop_assert!(false, "{}\n{}", m.first, kont_spec::syntax::print_program(&case.program));
        }
    }
}
