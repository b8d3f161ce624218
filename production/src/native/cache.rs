//! The native `with-cache` handler (SPEC.md §13.4): a store local to the
//! handler, keyed by data values compared with `=`.

use std::rc::Rc;

use super::{data, list_of_len, ok, refuse, Reply};
use crate::continuation::Continuation;
use crate::prim::equal;
use crate::value::Value;

/// Entries in insertion order, as the prelude's list keeps them.
#[derive(Default)]
pub struct Store {
    entries: Vec<(Value, Value)>,
}

impl Store {
    /// `run` is the running one (`=` tells its identities from earlier runs').
    fn find(&self, key: &Value, run: u64) -> Option<usize> {
        if crate::faults::active(crate::faults::Fault::CacheKeysByText) {
            return self.entries.iter().position(|(k, _)| shown(k) == shown(key));
        }
        // Keys are data (checked), so `=` cannot fail on them.
        self.entries.iter().position(|(k, _)| equal(k, key, run) == Ok(true))
    }

    pub fn clause(&mut self, label: &str, x: Value, k: Rc<Continuation>) -> Reply {
        if label == "CachePut" {
            let Some([key, v]) = list_of_len(&x, 2).filter(|kv| data(&kv[0])).map(|kv| [kv[0].clone(), kv[1].clone()])
            else {
                return refuse(k, "bad-payload", x);
            };
            if let Some(i) = self.find(&key, k.run) {
                self.entries.remove(i);
            }
            self.entries.push((key, v));
            return Reply::Transfer(k, ok(Value::Unit));
        }
        if !data(&x) {
            return refuse(k, "bad-key", x);
        }
        let found = self.find(&x, k.run);
        match (label, found) {
            ("CacheGet", Some(i)) => Reply::Transfer(k, ok(self.entries[i].1.clone())),
            ("CacheGet", None) => refuse(k, "cache-miss", x),
            ("CacheExists", found) => Reply::Transfer(k, ok(Value::Bool(found.is_some()))),
            ("CacheDelete", found) => {
                if let Some(i) = found {
                    self.entries.remove(i);
                }
                Reply::Transfer(k, ok(Value::Unit))
            }
            (other, _) => unreachable!("the standard cache handler has no clause for {other}"),
        }
    }
}

/// `CacheKeysByText`: a key's `show` text, as a faulty cache compares them
/// (a string shows as itself).
fn shown(v: &Value) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Unit => "unit".to_string(),
        Value::List(items) => {
            let parts: Vec<String> = items.0.iter().map(shown).collect();
            format!("(list {})", parts.join(" "))
        }
        _ => "?".to_string(),
    }
}
