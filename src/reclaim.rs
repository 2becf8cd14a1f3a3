//! Large values freed on a helper thread while the pipeline goes on.
//!
//! Freeing the parse trees of a big Terraform module is hundreds of thousands of small
//! deallocations; done inline it is serial time between the load and the graph. A loader
//! hands such a value to [`drop_later`]; [`wait`] (called at the end of every analysis)
//! joins the helpers, so no freeing outlives the run that started it.

use std::sync::Mutex;
use std::thread::JoinHandle;

static PENDING: Mutex<Vec<JoinHandle<()>>> = Mutex::new(Vec::new());

/// Drops `value` on a helper thread (inline when no thread can be started).
pub(crate) fn drop_later<T: Send + 'static>(value: T) {
    let spawned = std::thread::Builder::new()
        .name("kdsguard-free".into())
        .spawn(move || drop(value));
    // On failure the closure, and with it the value, was dropped here already.
    if let Ok(handle) = spawned {
        PENDING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(handle);
    }
}

/// Waits until every value handed to [`drop_later`] so far is freed.
pub fn wait() {
    let handles = std::mem::take(&mut *PENDING.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    for handle in handles {
        // A panic while freeing is not the user's input; there is nothing to report.
        let _ = handle.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn wait_returns_after_every_handed_value_is_dropped() {
        let dropped = Arc::new(AtomicUsize::new(0));
        for _ in 0..3 {
            drop_later(Counted(dropped.clone()));
        }
        wait();
        assert_eq!(dropped.load(Ordering::SeqCst), 3);
    }
}
