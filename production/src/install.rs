//! [B-Install]: `with-handler`, `with-intercept` and `with-observe` open a
//! fresh fiber whose base is the boundary, with a fresh scope id (the live
//! authority for that installation), and run the body in it.

use std::rc::Rc;

use kont_spec::{BoundaryKind, Event, Rule};

use crate::fiber::Boundary;
use crate::machine::{Flow, Machine};
use crate::native::NativeKind;
use crate::value::{Env, Value};

impl Machine<'_, '_> {
    /// [B-Install] for `with-handler`: a fresh fiber whose base is the prompt.
    pub fn with_handler(&mut self, def: u32) -> Flow {
        let h = &self.code.handlers[def as usize];
        let group = h.group;
        let env = self.make_env(group);
        let scope = self.new_scope();
        self.rule(Rule::BInstall);
        self.emit(|m| Event::Install {
            scope,
            kind: BoundaryKind::Handler,
            name: m.code.handlers[def as usize].name.clone(),
            copy_of: None,
        });
        let body = self.code.groups[group as usize].protos[0];
        let native =
            self.code.handlers[def as usize].native.map(|b| crate::native::new_state(NativeKind::from_builtin(b)));
        self.natives_used |= native.is_some();
        let takes = self.code.handlers[def as usize].takes();
        self.open_boundary(Boundary::Handler { scope, def, takes, env: env.clone(), native }, body, env)
    }

    /// [B-Install] for `with-intercept` / `with-observe`.
    pub fn with_intercept(&mut self, def: u32, func: Value) -> Flow {
        let i = &self.code.intercepts[def as usize];
        let (group, observe) = (i.group, i.observe);
        let env = self.make_env(group);
        let scope = self.new_scope();
        self.rule(Rule::BInstall);
        let kind = if observe { BoundaryKind::Observe } else { BoundaryKind::Intercept };
        self.emit(|_| Event::Install { scope, kind, name: kind.name().to_string(), copy_of: None });
        let body = self.code.groups[group as usize].protos[0];
        self.open_boundary(Boundary::Intercept { scope, def, func }, body, env)
    }

    /// Suspend the running function and run `body` in a new fiber based on `b`.
    pub fn open_boundary(&mut self, b: Boundary, body: u32, env: Rc<Env>) -> Flow {
        let caller = self.save();
        self.frames.push(caller);
        let f = self.alloc_fiber(self.cur(), b)?;
        self.switch(f);
        self.start_function(body, env, 0, 0);
        Flow::Continue(())
    }
}
