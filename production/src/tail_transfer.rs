//! The tail-transfer shortcut: a perform whose handler clause is
//! `(transfer k e)`, with `e` a literal, the payload, a captured value, or
//! one int operation on those, ends where it started — D-Handle detaches the
//! chain, the clause computes `e`, K-Transfer relinks the chain where it was
//! and the performer receives `e`. When nothing observes the steps (no trace,
//! no rule counts, no fault injected), the machine does only what is left
//! visible: it charges the clause's fuel, spends the dispatch and
//! continuation ids, and pushes `e`. Anything else — a clause of another
//! shape, a value `e` cannot compute on the int path, too little fuel for
//! the clause, an interceptor, observer, host or native boundary on the way —
//! takes the full path, which then does exactly what it always did.
//! The difftest checks every program untraced against its traced run
//! (and catches the `TailTransferFree` fault that way).

use kont_spec::ast::{Prim, ResumeMode};

use crate::code::{takes_bit, Arg, Instr, LabelId, Op};
use crate::faults::{self, Fault};
use crate::fiber::{Boundary, NONE};
use crate::machine::Machine;
use crate::value::Value;

/// A value the clause reads without any effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operand {
    /// The clause's first parameter: the effect's payload.
    Payload,
    Int(i32),
    /// An entry of the constant pool.
    Const(u32),
    /// A value captured by the handler's closure environment.
    Capture(u32),
}

/// What the clause transfers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transferred {
    Operand(Operand),
    /// `Op::Arith` on two operands, taken only on its int path.
    Arith(Prim, Operand, Operand),
}

/// A clause of the shortcut's shape, and the fuel its code charges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TailTransfer {
    pub value: Transferred,
    pub fuel: u32,
}

/// Whether a labelled clause's compiled code is `(transfer k e)` of the
/// shortcut's shape: read symbolically, instruction by instruction, up to the
/// transfer. Parameters are local 0 (the payload) and local 1 (`k`).
pub fn analyse(code: &[Instr]) -> Option<TailTransfer> {
    let mut stack: Vec<Transferred> = Vec::new();
    let mut fuel = 0u32;
    for ins in code {
        fuel = fuel.checked_add(ins.fuel)?;
        match ins.op {
            Op::Int(i) => stack.push(Transferred::Operand(Operand::Int(i))),
            Op::Const(c) => stack.push(Transferred::Operand(Operand::Const(c))),
            Op::Local(0) => stack.push(Transferred::Operand(Operand::Payload)),
            Op::Capture(c) => stack.push(Transferred::Operand(Operand::Capture(c))),
            Op::Arith { op, a, b, .. } => {
                // The second operand is on top.
                let b = operand(b, &mut stack)?;
                let a = operand(a, &mut stack)?;
                stack.push(Transferred::Arith(op, a, b));
            }
            Op::Resume { mode: ResumeMode::Transfer, throw: false, k: Arg::Local(1), v, .. } => {
                let value = match v {
                    Arg::Stack => stack.pop()?,
                    v => Transferred::Operand(operand(v, &mut stack)?),
                };
                return stack.is_empty().then_some(TailTransfer { value, fuel });
            }
            _ => return None,
        }
    }
    None
}

/// An instruction operand as a plain operand (a stacked one must be one).
fn operand(a: Arg, stack: &mut Vec<Transferred>) -> Option<Operand> {
    match a {
        Arg::Stack => match stack.pop()? {
            Transferred::Operand(o) => Some(o),
            Transferred::Arith(..) => None,
        },
        Arg::Local(0) => Some(Operand::Payload),
        Arg::Local(_) => None,
        Arg::Capture(c) => Some(Operand::Capture(c)),
        Arg::Int(i) => Some(Operand::Int(i)),
    }
}

/// `Op::Arith`'s int path: an int (`Ok`) or a bool (`Err`), or `None` when
/// the general path takes it (overflow, or not an arithmetic operation).
#[inline(always)]
pub fn int_arith(op: Prim, x: i64, y: i64) -> Option<Result<i64, bool>> {
    Some(match op {
        Prim::Add => Ok(x.checked_add(y)?),
        Prim::Sub => Ok(x.checked_sub(y)?),
        Prim::Mul => Ok(x.checked_mul(y)?),
        Prim::Eq => Err(x == y),
        Prim::Ne => Err(x != y),
        Prim::Lt => Err(x < y),
        Prim::Le => Err(x <= y),
        Prim::Gt => Err(x > y),
        Prim::Ge => Err(x >= y),
        _ => return None,
    })
}

/// Operand `o` of a clause: a reference into the payload, the constant pool
/// or the handler's captures (an int literal has none).
#[inline(always)]
fn read<'a>(o: Operand, payload: &'a Value, consts: &'a [Value], captures: &'a [Value]) -> Option<&'a Value> {
    match o {
        Operand::Payload => Some(payload),
        Operand::Int(_) => None,
        Operand::Const(c) => Some(&consts[c as usize]),
        Operand::Capture(c) => Some(&captures[c as usize]),
    }
}

/// Operand `o` as an int, or `None`.
#[inline(always)]
fn int(o: Operand, payload: &Value, consts: &[Value], captures: &[Value]) -> Option<i64> {
    match (o, read(o, payload, consts, captures)) {
        (Operand::Int(i), _) => Some(i as i64),
        (_, Some(Value::Int(i))) => Some(*i),
        _ => None,
    }
}

impl Machine<'_, '_> {
    /// The shortcut's answer to performing `label payload` from the running
    /// function, and the fuel its clause costs; `None` for the full path.
    /// It only reads: `took_tail_transfer` does the rest.
    // Inlined into the loop: its call and the `Option` it returns cost
    // ≈ 10 instructions per perform (callgrind, W1).
    #[inline(always)]
    pub fn tail_transfer(&self, label: LabelId, payload: &Value) -> Option<(Value, u32)> {
        let code = self.code;
        let bit = takes_bit(label);
        let mut f = self.cur();
        let mut steps = 0usize;
        let (tt, env) = loop {
            // As in `dispatch`: a well-formed chain reaches the root.
            steps += 1;
            assert!(steps <= self.fibers.len(), "fiber chain cycle");
            let (boundary, parent) = self.fibers.link(f);
            match boundary {
                Boundary::Handler { takes, .. } if takes & bit == 0 => {}
                Boundary::Handler { def, env, native, .. } => {
                    let h = &code.handlers[*def as usize];
                    if let Some(clause) = h.clause_for(label) {
                        if native.is_some() {
                            return None;
                        }
                        break (h.tail_transfer[clause as usize].as_ref()?, env);
                    }
                }
                Boundary::Intercept { def, .. } => {
                    if code.intercepts[*def as usize].matches(label) {
                        return None;
                    }
                }
                Boundary::Host { .. } => return None,
                Boundary::None => {}
            }
            if parent == NONE {
                return None;
            }
            f = parent;
        };
        if self.fuel_left() < tt.fuel as u64 {
            return None;
        }
        let (consts, captures) = (&code.consts[..], &env.captures[..]);
        let v = match tt.value {
            Transferred::Operand(Operand::Int(i)) => Value::Int(i as i64),
            Transferred::Operand(o) => read(o, payload, consts, captures)?.clone(),
            // Ints only, read in place: anything else takes the full path.
            Transferred::Arith(op, a, b) => {
                let (x, y) = (int(a, payload, consts, captures)?, int(b, payload, consts, captures)?);
                match int_arith(op, x, y)? {
                    Ok(i) => Value::Int(i),
                    Err(c) => Value::Bool(c),
                }
            }
        };
        Some((v, tt.fuel))
    }

    /// The shortcut was taken: charge the clause's fuel and spend the ids
    /// D-Perform and D-Handle would have taken (later ones stay the same).
    #[inline]
    pub fn took_tail_transfer(&mut self, fuel: u32) {
        if !faults::active(Fault::TailTransferFree) {
            self.spend_fuel(fuel as u64);
        }
        self.new_dispatch();
        self.new_cont_id();
        self.tail_transfers += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kont_spec::{check_program, parse_program};

    /// The analysis of the first handler's only clause in `src`.
    fn clause_of(src: &str) -> Option<TailTransfer> {
        let (program, _) = parse_program(src).expect("parses");
        check_program(&program).expect("checks");
        let code = crate::compile(&program);
        code.handlers[0].tail_transfer[0]
    }

    #[test]
    fn transfers_of_plain_values_take_the_shortcut() {
        let t = clause_of("(with-handler ((E (x k) (transfer k (+ x 1)))) (perform E 1))").expect("shortcut");
        assert_eq!(t.value, Transferred::Arith(Prim::Add, Operand::Payload, Operand::Int(1)));
        assert!(t.fuel > 0, "the clause's nodes cost fuel");
        let t = clause_of("(with-handler ((E (x k) (transfer k x))) (perform E 1))").expect("shortcut");
        assert_eq!(t.value, Transferred::Operand(Operand::Payload));
    }

    /// Run `src` untraced or traced: the outcome, fuel and memory spent, and
    /// how many performs the shortcut answered.
    fn run(src: &str, trace: bool, fuel: u64) -> (String, u64, u64, u64) {
        let (program, _) = parse_program(src).expect("parses");
        check_program(&program).expect("checks");
        let code = crate::compile(&program);
        let mut m =
            Machine::new(&code, crate::next_run(), kont_spec::Limits { fuel, ..Default::default() }, trace, false);
        let outcome = match m.run_main(Vec::new()) {
            crate::machine::Exit::Finished(v) => format!("value {}", m.view(&v)),
            crate::machine::Exit::Failed(e, _) => format!("error {}", m.view(&e)),
            crate::machine::Exit::Exhausted(r) => format!("exhausted {}", r.name()),
            crate::machine::Exit::RunHost => unreachable!(),
        };
        (outcome, m.steps(), m.memory_spent(), m.tail_transfers)
    }

    #[test]
    fn untraced_performs_take_the_shortcut_and_end_as_traced_ones() {
        // Between the performs, a continuation captured the full way: its id
        // counts the performs the shortcut answered.
        let src = "(with-handler ((Inc (x k) (transfer k (+ x 1))) (Grab (u k) (transfer k k)))
                     (letrec ((loop (i acc) (if (= i 0) acc (loop (- i 1) (+ acc (perform Inc i))))))
                       (list (loop 100 0) (perform Grab unit) (loop 3 0))))";
        let fuel = kont_spec::Limits::default().fuel;
        let traced = run(src, true, fuel);
        let untraced = run(src, false, fuel);
        assert_eq!(traced.3, 0, "a traced run takes the full path");
        assert_eq!(untraced.3, 103);
        assert_eq!(untraced.0, "value (list 5150 #k101 9)");
        assert_eq!(untraced.0, traced.0);
        assert_eq!((untraced.1, untraced.2), (traced.1, traced.2), "fuel and memory");
    }

    #[test]
    fn fuel_running_out_in_the_clause_takes_the_full_path() {
        let src = "(with-handler ((Inc (x k) (transfer k (+ x 1))))
                     (letrec ((loop (i) (loop (perform Inc i)))) (loop 0)))";
        // Every budget from 40 to 60 runs out somewhere in the loop, some in the clause.
        for fuel in 40..60 {
            let (traced, untraced) = (run(src, true, fuel), run(src, false, fuel));
            assert_eq!(untraced.0, "exhausted fuel");
            assert_eq!((&untraced.0, untraced.1), (&traced.0, traced.1), "fuel {fuel}");
        }
    }

    #[test]
    fn other_clauses_take_the_full_path() {
        for clause in [
            "(resume k x)",
            "(transfer-throw k x)",
            "(transfer k k)",
            "(transfer k (+ (* x 2) 1))",
            "(do (emit x) (transfer k x))",
            "(transfer k (f x))",
        ] {
            let src = format!("(letrec ((f (y) y)) (with-handler ((E (x k) {clause})) (perform E 1)))");
            assert_eq!(clause_of(&src), None, "{clause}");
        }
    }
}
