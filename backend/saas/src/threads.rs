//! How many threads a piece of work takes, and running two at once.

/// The threads a computation over `n` invoices takes.
pub(crate) fn threads_for(n: usize) -> usize {
    match n {
        n if n < PARALLEL_FROM => 1,
        _ => std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_THREADS)),
    }
}

/// Below this many invoices the work is done on one thread: starting
/// threads would cost more than they save.
const PARALLEL_FROM: usize = 100_000;
/// Most threads one computation takes.
const MAX_THREADS: usize = 4;

/// `a` and `b`, on two threads when `parallel`, else one after the other.
pub(crate) fn both<A: Send, B: Send>(
    parallel: bool,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    if !parallel {
        return (a(), b());
    }
    std::thread::scope(|scope| {
        let other = scope.spawn(b);
        let first = a();
        (
            first,
            other.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        )
    })
}
