//! Passwords: the rules a new one must meet, and argon2id hashing that cannot starve the
//! server.
//!
//! Parameters: argon2id, 19 MiB of memory, 2 iterations, 1 lane — the first of the OWASP
//! Password Storage Cheat Sheet's equivalent configurations, and the `argon2` crate's
//! defaults. A stored hash carries its own parameters, so hashes made under other ones still
//! verify.
//!
//! Hashing is slow on purpose, so it runs on threads of its own (`users::hashing`: half the
//! cores, at a lower priority than the server's), at most [`PasswordHasher`]'s `permits` at
//! once: a flood of sign-ins queues there, while token verification keeps the runtime's
//! threads and goes first on a shared core. A queue longer than `max_waiting` is refused at
//! once ([`HashError::Busy`], answered 503 with `Retry-After`), so the queue cannot grow
//! without end either.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

pub use argon2::Params;
use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Block, PasswordHash, Version};
use subtle::ConstantTimeEq as _;
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

/// The fewest characters a new password may have (NIST SP 800-63B §5.1.1.2).
pub const MIN_PASSWORD_CHARS: usize = 8;
/// The most bytes a password may have: long passphrases fit, unbounded input does not.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// A password as typed: wiped from memory when dropped, never printed.
#[derive(Clone)]
pub struct Password(Zeroizing<String>);

impl Password {
    /// `text` as a password.
    pub fn new(text: String) -> Self {
        Self(Zeroizing::new(text))
    }

    fn bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Why a new password is refused (the message names the rule, never the password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordProblem {
    /// Fewer than [`MIN_PASSWORD_CHARS`] characters.
    TooShort,
    /// More than [`MAX_PASSWORD_BYTES`] bytes.
    TooLong,
    /// The same as the username.
    SameAsUsername,
}

impl fmt::Display for PasswordProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort => write!(
                f,
                "the password is too short: use at least {MIN_PASSWORD_CHARS} characters \
                 (a passphrase of several words is easier to remember)"
            ),
            Self::TooLong => write!(
                f,
                "the password is too long: use at most {MAX_PASSWORD_BYTES} bytes"
            ),
            Self::SameAsUsername => f.write_str("the password must not be the username"),
        }
    }
}

impl std::error::Error for PasswordProblem {}

/// Whether `password` may be set for `username`.
pub fn check_new(password: &Password, username: &str) -> Result<(), PasswordProblem> {
    let text = password.0.as_str();
    if text.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordProblem::TooLong);
    }
    if text.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordProblem::TooShort);
    }
    if text.eq_ignore_ascii_case(username) {
        return Err(PasswordProblem::SameAsUsername);
    }
    Ok(())
}

/// Why a password could not be hashed or checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashError {
    /// Too many hashes are waiting already: retry shortly (503).
    Busy,
    /// The hash could not be computed, or a stored one is malformed (no password in it).
    Failed(String),
}

impl fmt::Display for HashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Busy => f.write_str("too many sign-ins at once: retry in a moment"),
            Self::Failed(reason) => write!(f, "password hashing failed: {reason}"),
        }
    }
}

impl std::error::Error for HashError {}

/// argon2id hashing, bounded (see the module's documentation).
pub struct PasswordHasher {
    argon: Argon2<'static>,
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
    verifications: AtomicU64,
    /// What a sign-in as an unknown user is checked against, so that it takes as long as
    /// one as a known user: a PHC string with the same parameters, whose salt and output
    /// are fixed bytes (the answer is thrown away; only the work counts). Made with the
    /// hasher, so no sign-in waits for it.
    dummy: String,
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("permits", &self.permits.available_permits())
            .field("max_waiting", &self.max_waiting)
            .finish_non_exhaustive()
    }
}

/// The parameters new hashes are made with (see the module's documentation).
pub fn params() -> Params {
    Params::DEFAULT
}

impl Default for PasswordHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl PasswordHasher {
    /// Hashing with [`params`], on half the cores at most, 64 waiting per permit.
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let permits = (cores / 2).max(1);
        Self::with_limits(params(), permits, permits * 64)
    }

    /// Hashing with `params`, `permits` at once, at most `max_waiting` queued.
    pub fn with_limits(params: Params, permits: usize, max_waiting: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(permits.max(1))),
            waiting: AtomicUsize::new(0),
            max_waiting,
            dummy: dummy_hash(&params),
            argon: Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
            verifications: AtomicU64::new(0),
        }
    }

    /// A new hash of `password` (a fresh random salt), as a PHC string.
    pub async fn hash(&self, password: &Password) -> Result<String, HashError> {
        let argon = self.argon.clone();
        let password = password.clone();
        self.bounded(move |memory| hash_with(&argon, password.bytes(), memory))
            .await
    }

    /// Whether `password` is the one `stored` (a PHC string) was made from.
    pub async fn verify(&self, password: &Password, stored: &str) -> Result<bool, HashError> {
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let password = password.clone();
        let stored = stored.to_owned();
        self.bounded(move |memory| verify_with(password.bytes(), &stored, memory))
            .await
    }

    /// How many passwords were checked against a hash (the unknown users' included).
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// Spends the time a verification takes, for a sign-in that cannot succeed (an unknown
    /// user): its answer must not come sooner than a wrong password's.
    pub async fn verify_nothing(&self, password: &Password) -> Result<(), HashError> {
        self.verify(password, &self.dummy).await.map(drop)
    }

    /// Runs `work` on a hashing thread once a permit is free, or refuses when too many wait.
    async fn bounded<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(HashError::Busy);
        }
        // Counted out of the queue however the wait ends: a request whose client went away
        // while it waited leaves its place.
        let waiting = Waiting(&self.waiting);
        let permit = self.permits.clone().acquire_owned().await;
        drop(waiting);
        let permit = permit.map_err(|_| HashError::Busy)?;
        // The permit goes with the work, and is given back when the work is done (or
        // skipped, its asker gone): never while a hash is still to run.
        super::hashing::run(move |memory| {
            let _permit = permit;
            work(memory)
        })
        .await
        .ok_or_else(|| HashError::Failed("no password hashing thread runs".to_owned()))?
    }
}

/// One place in a hasher's queue, given back when dropped.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The PHC string an unknown user's password is checked against under `params`.
fn dummy_hash(params: &Params) -> String {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD_NO_PAD;
    let output = vec![0x5a; params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)];
    format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        STANDARD_NO_PAD.encode(b"jwtkit: no user"),
        STANDARD_NO_PAD.encode(output)
    )
}

fn blocks<'m>(memory: &'m mut Vec<Block>, params: &Params) -> &'m mut [Block] {
    let needed = params.block_count();
    if memory.len() < needed {
        memory.resize(needed, Block::new());
    }
    &mut memory[..needed]
}

fn failed(error: impl std::fmt::Display) -> HashError {
    HashError::Failed(error.to_string())
}

/// A hash of `password` under a fresh random salt, as a PHC string.
fn hash_with(
    argon: &Argon2<'static>,
    password: &[u8],
    memory: &mut Vec<Block>,
) -> Result<String, HashError> {
    let params = argon.params().clone();
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(failed)?;
    let mut output = vec![0u8; params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)];
    argon
        .hash_password_into_with_memory(password, &salt, &mut output, blocks(memory, &params))
        .map_err(failed)?;
    let hash = PasswordHash {
        algorithm: ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(failed)?,
        salt: Some(Salt::new(&salt).map_err(failed)?),
        hash: Some(Output::new(&output).map_err(failed)?),
    };
    Ok(hash.to_string())
}

/// Whether `password` is the one `stored` (a PHC string, any argon2 variant and parameters)
/// was made from; the outputs compared in constant time.
fn verify_with(password: &[u8], stored: &str, memory: &mut Vec<Block>) -> Result<bool, HashError> {
    let malformed = |e: &dyn std::fmt::Display| failed(format!("a stored hash is malformed: {e}"));
    let hash = PasswordHash::new(stored).map_err(|e| malformed(&e))?;
    let algorithm = Algorithm::try_from(hash.algorithm.as_str()).map_err(|e| malformed(&e))?;
    let version = match hash.version {
        Some(version) => Version::try_from(version).map_err(|e| malformed(&e))?,
        None => Version::default(),
    };
    let params = Params::try_from(&hash).map_err(|e| malformed(&e))?;
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return Err(malformed(&"no salt or no hash"));
    };
    let mut output = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params.clone())
        .hash_password_into_with_memory(password, salt, &mut output, blocks(memory, &params))
        .map_err(failed)?;
    Ok(bool::from(output.as_slice().ct_eq(expected.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn passwords_are_hashed_below_the_servers_priority() {
        use rustix::process::getpriority_process;
        let server = getpriority_process(None).unwrap();
        let hasher = PasswordHasher::with_limits(Params::new(256, 1, 1, None).unwrap(), 1, 4);
        let hashing = hasher
            .bounded(|_| Ok(getpriority_process(None).unwrap()))
            .await
            .unwrap();
        assert_eq!(hashing, (server + super::super::hashing::NICENESS).min(19));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_that_leaves_the_queue_gives_its_place_back() {
        let hasher = Arc::new(PasswordHasher::with_limits(
            Params::new(64 * 1024, 3, 1, None).unwrap(),
            1,
            1,
        ));
        let running = {
            let hasher = hasher.clone();
            tokio::spawn(async move { hasher.hash(&Password::new("first".into())).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        // The one place in the queue: taken, then its client goes away.
        let gone = tokio::time::timeout(
            std::time::Duration::from_millis(5),
            hasher.hash(&Password::new("second".into())),
        )
        .await;
        assert!(gone.is_err(), "it waited behind the running hash");
        running.await.unwrap().unwrap();
        assert!(
            hasher.hash(&Password::new("third".into())).await.is_ok(),
            "the place was given back"
        );
    }

    #[test]
    fn an_unknown_users_hash_costs_what_a_real_one_does() {
        let params = Params::new(256, 3, 1, None).unwrap();
        let dummy = dummy_hash(&params);
        let mut memory = Vec::new();
        let real = hash_with(
            &Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone()),
            b"correct horse",
            &mut memory,
        )
        .unwrap();
        let (dummy, real) = (
            PasswordHash::new(&dummy).unwrap(),
            PasswordHash::new(&real).unwrap(),
        );
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.version, real.version);
        assert_eq!(dummy.params, real.params, "the same memory, time and lanes");
        assert_eq!(
            dummy.hash.map(|h| h.len()),
            real.hash.map(|h| h.len()),
            "the same output length"
        );
        let dummy = dummy_hash(&params);
        assert!(!verify_with(b"correct horse", &dummy, &mut memory).unwrap());
        assert_eq!(
            dummy_hash(&params),
            dummy,
            "made without randomness or hashing"
        );
    }
}
