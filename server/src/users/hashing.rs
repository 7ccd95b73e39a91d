//! The threads that hash passwords: one pool for the process, half the cores (at least one),
//! each thread at a lower scheduling priority than the server's — its nice value raised by
//! [`NICENESS`] (on Linux a thread's own) — so that on a busy core, serving requests goes
//! first and sign-ins wait their turn.
//!
//! Each thread keeps argon2's working memory from its first hash on, allocated once and
//! never freed: a 19 MiB allocation freed after every hash would teach the allocator to keep
//! memory of that size in every thread's arena, and the process would grow under load.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use argon2::Block;
use tokio::sync::oneshot;

/// How many steps lower than the server's the hashing threads' priority is.
pub(crate) const NICENESS: i32 = 10;

/// One piece of hashing work, given the thread's memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

static POOL: OnceLock<Sender<Job>> = OnceLock::new();

/// Where jobs go: the pool, started at its first use.
fn pool() -> &'static Sender<Job> {
    POOL.get_or_init(|| {
        let (jobs, receiver) = channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        for i in 0..(cores / 2).max(1) {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("jwtkit-hashing-{i}"))
                .spawn(move || serve(&receiver));
            if let Err(error) = spawned {
                tracing::error!(target: "jwtkit::users", %error, "a password hashing thread could not start");
            }
        }
        jobs
    })
}

/// A hashing thread's life: lower its priority, then run jobs until the process ends.
fn serve(receiver: &Mutex<Receiver<Job>>) {
    lower_priority();
    let mut memory = Vec::new();
    loop {
        let job = receiver
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .recv();
        match job {
            Ok(job) => job(&mut memory),
            Err(_) => return,
        }
    }
}

/// The calling thread's nice value raised by [`NICENESS`] (at most 19); elsewhere than
/// Linux, where the nice value belongs to the whole process, nothing.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{getpriority_process, setpriority_process};
        let lowered = getpriority_process(None)
            .and_then(|now| setpriority_process(None, (now + NICENESS).min(19)));
        if let Err(error) = lowered {
            tracing::warn!(target: "jwtkit::users", %error, "a password hashing thread keeps the server's priority");
        }
    }
}

/// Runs `work` on a hashing thread with its memory; `None` when no thread can.
pub(super) async fn run<T: Send + 'static>(
    work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
) -> Option<T> {
    let (answer, answered) = oneshot::channel();
    let job: Job = Box::new(move |memory| {
        // An asker that has gone (its request ended) needs no hash: none is made for it.
        if answer.is_closed() {
            return;
        }
        let _ = answer.send(work(memory));
    });
    pool().send(job).ok()?;
    answered.await.ok()
}
