//! The writer every log line of the `jwtkit` binary goes through: a request only appends its
//! line to a shared buffer; a thread of its own writes whatever has gathered, a few
//! milliseconds after the first line of a batch, in one write. Under load a write carries
//! hundreds of lines and the thread wakes a few hundred times a second, not once per line; a
//! quiet server's line is out within milliseconds. Never lossy: past [`MAX_PENDING`] bytes a
//! request waits for the thread rather than drop a line; what is pending when the
//! [`LogGuard`] goes is written before it is gone.

use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long the thread lets lines gather after the first of a batch.
const GATHER: Duration = Duration::from_millis(5);
/// The most bytes waiting to be written before appending waits.
pub const MAX_PENDING: usize = 8 << 20;

struct Shared {
    pending: Mutex<Pending>,
    /// The first line of a batch arrived, or the guard went.
    arrived: Condvar,
    /// A batch was taken: appending may go on.
    taken: Condvar,
}

#[derive(Default)]
struct Pending {
    bytes: Vec<u8>,
    closed: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        // A panic elsewhere while holding the lock leaves bytes that are still worth writing.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A handle to append log lines; cheap to clone.
#[derive(Clone)]
pub struct LogWriter {
    shared: Arc<Shared>,
}

/// Writes what is pending and stops the thread when dropped.
pub struct LogGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl LogWriter {
    /// A writer to `out`, and the guard that flushes it at the end.
    pub fn spawn(mut out: impl Write + Send + 'static) -> io::Result<(Self, LogGuard)> {
        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending::default()),
            arrived: Condvar::new(),
            taken: Condvar::new(),
        });
        let worker = shared.clone();
        let thread = std::thread::Builder::new()
            .name("jwtkit-log".into())
            .spawn(move || {
                let mut batch = Vec::new();
                loop {
                    let mut pending = worker.lock();
                    while pending.bytes.is_empty() && !pending.closed {
                        pending = worker
                            .arrived
                            .wait(pending)
                            .unwrap_or_else(PoisonError::into_inner);
                    }
                    if !pending.closed {
                        drop(pending);
                        std::thread::sleep(GATHER);
                        pending = worker.lock();
                    }
                    std::mem::swap(&mut batch, &mut pending.bytes);
                    let closed = pending.closed;
                    drop(pending);
                    worker.taken.notify_all();
                    // Nowhere to report a failed write to: the log is where errors go.
                    let _ = out.write_all(&batch).and_then(|()| out.flush());
                    batch.clear();
                    if closed && worker.lock().bytes.is_empty() {
                        return;
                    }
                }
            })?;
        let writer = Self {
            shared: shared.clone(),
        };
        Ok((
            writer,
            LogGuard {
                shared,
                thread: Some(thread),
            },
        ))
    }

    /// Appends `bytes` (whole lines) to what the thread writes next. Once the [`LogGuard`]
    /// is gone there is no thread to write them: they are dropped (the binary lets the guard
    /// go last, after the server has stopped).
    pub fn append(&self, bytes: &[u8]) {
        let mut pending = self.shared.lock();
        if pending.closed {
            return;
        }
        while pending.bytes.len() >= MAX_PENDING && !pending.closed {
            pending = self
                .shared
                .taken
                .wait(pending)
                .unwrap_or_else(PoisonError::into_inner);
        }
        let first = pending.bytes.is_empty();
        pending.bytes.extend_from_slice(bytes);
        drop(pending);
        if first {
            self.shared.arrived.notify_one();
        }
    }
}

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.append(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = Self;

    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.arrived.notify_one();
        self.shared.taken.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An output shared with the test.
    #[derive(Clone, Default)]
    struct Out(Arc<Mutex<Vec<u8>>>);

    impl Write for Out {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_is_written_in_order_and_nothing_is_lost_at_the_end() {
        let out = Out::default();
        let (writer, guard) = LogWriter::spawn(out.clone()).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let writer = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..10_000 {
                        writer.append(format!("{t} {i}\n").as_bytes());
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        drop(guard);
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        for t in 0..4 {
            let mine: Vec<usize> = text
                .lines()
                .filter_map(|l| l.strip_prefix(&format!("{t} ")))
                .map(|i| i.parse().unwrap())
                .collect();
            assert_eq!(mine, (0..10_000).collect::<Vec<_>>(), "thread {t}");
        }
    }

    #[test]
    fn a_quiet_servers_line_is_out_within_milliseconds() {
        let out = Out::default();
        let (writer, _guard) = LogWriter::spawn(out.clone()).unwrap();
        writer.append(b"one\n");
        for _ in 0..200 {
            if !out.0.lock().unwrap().is_empty() {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("the line was not written within a second");
    }

    #[test]
    fn appending_past_the_cap_waits_for_the_thread_instead_of_dropping() {
        /// An output that writes only once the test opens it.
        struct Gated(Out, Arc<(Mutex<bool>, Condvar)>);
        impl Write for Gated {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                let (open, opened) = &*self.1;
                let mut open = open.lock().unwrap();
                while !*open {
                    open = opened.wait(open).unwrap();
                }
                self.0.write(buf)
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let (out, gate) = (
            Out::default(),
            Arc::new((Mutex::new(false), Condvar::new())),
        );
        let (writer, guard) = LogWriter::spawn(Gated(out.clone(), gate.clone())).unwrap();
        let line = vec![b'x'; MAX_PENDING / 4];
        // The thread takes the first batch and waits at the gate; the rest fill the buffer to
        // its cap, and the append after that waits.
        writer.append(&line);
        std::thread::sleep(GATHER * 4);
        let appender = std::thread::spawn(move || {
            for _ in 0..5 {
                writer.append(&line);
            }
        });
        std::thread::sleep(Duration::from_millis(200));
        assert!(
            !appender.is_finished(),
            "the fifth append waits for the thread"
        );
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
        appender.join().unwrap();
        drop(guard);
        assert_eq!(out.0.lock().unwrap().len(), 6 * (MAX_PENDING / 4));
    }
}
