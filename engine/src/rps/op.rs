//! The op state machine every vendor client runs in: the shell drives an [`Op`] with
//! [`Op::start`] and [`Op::on_reply`] until it yields [`Step::Done`]; [`RpsAccount`]'s
//! calls pick the vendor's machine.

use std::fmt;

use super::{Client, Detail, HttpReply, HttpRequest, RpsAccount, RpsError, RpsPhone, Started};
use crate::mac::Mac;
use crate::secret::Secret;

/// The most requests one op may make (pages of lists included) before it gives up: a
/// server that keeps answering "next page" cannot keep the shell looping.
pub(crate) const MAX_STEPS: u32 = 32;

/// The next thing the shell must do for an [`Op`].
#[must_use]
#[derive(Debug)]
pub enum Step<T> {
    /// Send this request and pass the reply to [`Op::on_reply`].
    Send(HttpRequest),
    /// The operation is over.
    Done(Result<T, RpsError>),
}

/// What [`RpsAccount::ensure_server`] found or made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerRef {
    /// The vendor's id for the server, group, site or endpoint list, where it has one.
    pub id: Option<String>,
    /// Whether the op created it (`false`: it was there, possibly updated).
    pub created: bool,
}

/// How a registration went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    /// The phone was not registered; now it is.
    Created,
    /// The phone was registered to this account; its entry was updated (or already right).
    Updated,
    /// The vendor's call sets the redirection unconditionally and does not say which.
    Set,
}

/// How a removal went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// The phone's registration was removed.
    Removed,
    /// It was not registered: nothing to do (removal is idempotent).
    AlreadyGone,
}

/// A phone's registration as the vendor reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhoneStatus {
    /// The phone is registered to this account.
    pub registered: bool,
    /// Whether its registered URL is the phone's URL, when the vendor reports one.
    pub url_matches: Option<bool>,
}

/// The server (Yealink), group (Fanvil) or site (Grandstream) that phones point at.
#[derive(Debug, Clone)]
pub struct ServerSpec {
    /// Its name at the vendor (Yealink server names are unique across all customers).
    pub name: String,
    /// The site's provisioning URL.
    pub url: Secret<String>,
}

impl ServerSpec {
    /// A server named `name` with the site's provisioning `url`.
    pub fn new(name: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            url: Secret::new(url.into()),
        }
    }
}

/// What an op's machine produces, before [`Op`] converts it to the op's result type.
#[derive(Debug)]
pub(crate) enum Outcome {
    Server(ServerRef),
    Registration(Registration),
    Removal(Removal),
    Status(PhoneStatus),
}

/// A result type an [`Op`] can produce.
pub trait OpResult: Sized + sealed::Sealed {
    #[doc(hidden)]
    fn from_outcome(o: OutcomeBox) -> Option<Self>;
}

/// Opaque carrier between the vendors' machines and [`OpResult`].
#[doc(hidden)]
#[derive(Debug)]
pub struct OutcomeBox(Outcome);

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::ServerRef {}
    impl Sealed for super::Registration {}
    impl Sealed for super::Removal {}
    impl Sealed for super::PhoneStatus {}
}

impl OpResult for ServerRef {
    fn from_outcome(o: OutcomeBox) -> Option<Self> {
        match o.0 {
            Outcome::Server(s) => Some(s),
            _ => None,
        }
    }
}
impl OpResult for Registration {
    fn from_outcome(o: OutcomeBox) -> Option<Self> {
        match o.0 {
            Outcome::Registration(s) => Some(s),
            _ => None,
        }
    }
}
impl OpResult for Removal {
    fn from_outcome(o: OutcomeBox) -> Option<Self> {
        match o.0 {
            Outcome::Removal(s) => Some(s),
            _ => None,
        }
    }
}
impl OpResult for PhoneStatus {
    fn from_outcome(o: OutcomeBox) -> Option<Self> {
        match o.0 {
            Outcome::Status(s) => Some(s),
            _ => None,
        }
    }
}

/// The time and nonce a machine signs its next request with.
pub(crate) struct Cx<'a> {
    pub(crate) now_ms: u64,
    pub(crate) nonce: &'a str,
}

/// A machine's answer: a request, or the end.
pub(crate) enum Next {
    Send(HttpRequest),
    Done(Result<Outcome, RpsError>),
}

/// One vendor's state machine for one operation.
pub(crate) trait Machine: Send {
    fn start(&mut self, cx: &Cx<'_>) -> Next;
    fn on_reply(&mut self, reply: &HttpReply, cx: &Cx<'_>) -> Next;
    /// What a later op of the same account may reuse.
    fn session(&self) -> Option<Session> {
        None
    }
}

/// What an op established that later ops of the same account may reuse: a GDMS access
/// token (until shortly before it expires) and organisation, so a run registering many
/// phones asks for one token instead of one per phone. Opaque; `Debug` shows no secret.
#[derive(Clone)]
pub struct Session {
    pub(crate) token: Secret<String>,
    pub(crate) org: Option<String>,
    pub(crate) expires_at_ms: u64,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("expires_at_ms", &self.expires_at_ms)
            .finish_non_exhaustive()
    }
}

/// A machine that ends at once, without a request.
pub(crate) struct Immediate(pub(crate) Option<Result<Outcome, RpsError>>);

impl Machine for Immediate {
    fn start(&mut self, _: &Cx<'_>) -> Next {
        Next::Done(self.0.take().unwrap_or_else(|| Err(finished())))
    }
    fn on_reply(&mut self, _: &HttpReply, _: &Cx<'_>) -> Next {
        Next::Done(Err(finished()))
    }
}

pub(crate) fn finished() -> RpsError {
    RpsError::InvalidInput("the operation is already finished".into())
}

/// One RPS operation in progress, a state machine the shell drives.
///
/// Call [`start`](Self::start) once, then [`on_reply`](Self::on_reply) with the reply to
/// each [`Step::Send`], until a [`Step::Done`]. Both take the current time (Unix ms) and a
/// fresh random nonce (letters, digits, `-`, `_`, `.`; a UUID is fine), used only if the
/// step builds a request.
#[must_use]
pub struct Op<T> {
    machine: Box<dyn Machine>,
    vendor: &'static str,
    state: OpState,
    steps: u32,
    _result: std::marker::PhantomData<fn() -> T>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpState {
    New,
    Waiting,
    Done,
}

impl<T> fmt::Debug for Op<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Op")
            .field("vendor", &self.vendor)
            .field("steps", &self.steps)
            .finish_non_exhaustive()
    }
}

impl<T: OpResult> Op<T> {
    pub(crate) fn new(vendor: &'static str, machine: impl Machine + 'static) -> Self {
        Self::boxed(vendor, Box::new(machine))
    }

    fn boxed(vendor: &'static str, machine: Box<dyn Machine>) -> Self {
        Self {
            machine,
            vendor,
            state: OpState::New,
            steps: 0,
            _result: std::marker::PhantomData,
        }
    }

    fn failed(vendor: &'static str, e: RpsError) -> Self {
        Self::new(vendor, Immediate(Some(Err(e))))
    }

    /// Begins the operation: the first request, or at once the result (an op that needs no
    /// call, or inputs that cannot make one).
    pub fn start(&mut self, now_ms: u64, nonce: &str) -> Step<T> {
        if self.state != OpState::New {
            return self.finish(Err(finished()));
        }
        if let Err(e) = check_nonce(nonce) {
            return self.finish(Err(e));
        }
        let next = self.machine.start(&Cx { now_ms, nonce });
        self.advance(next)
    }

    /// What this op established that later ops of the same account may reuse (see
    /// [`RpsAccount::resume`]); `None` for vendors without sessions.
    pub fn session(&self) -> Option<Session> {
        self.machine.session()
    }

    /// Feeds the reply to the last request; returns the next request or the result.
    pub fn on_reply(&mut self, reply: HttpReply, now_ms: u64, nonce: &str) -> Step<T> {
        if self.state != OpState::Waiting {
            return self.finish(Err(finished()));
        }
        if let Err(e) = check_nonce(nonce) {
            return self.finish(Err(e));
        }
        let next = self.machine.on_reply(&reply, &Cx { now_ms, nonce });
        self.advance(next)
    }

    fn advance(&mut self, next: Next) -> Step<T> {
        match next {
            Next::Send(req) => {
                self.steps += 1;
                if self.steps > MAX_STEPS {
                    let mut d = Detail::new(self.vendor);
                    d.message = Some(format!("more than {MAX_STEPS} requests for one operation"));
                    return self.finish(Err(RpsError::UnexpectedReply(d)));
                }
                self.state = OpState::Waiting;
                Step::Send(req)
            }
            Next::Done(r) => {
                let vendor = self.vendor;
                self.finish(r.and_then(|o| {
                    T::from_outcome(OutcomeBox(o)).ok_or_else(|| {
                        RpsError::InvalidInput(format!("{vendor}: internal result mismatch"))
                    })
                }))
            }
        }
    }

    fn finish(&mut self, r: Result<T, RpsError>) -> Step<T> {
        self.state = OpState::Done;
        Step::Done(r)
    }
}

pub(crate) fn check_nonce(nonce: &str) -> Result<(), RpsError> {
    let ok = !nonce.is_empty()
        && nonce.len() <= 128
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(RpsError::InvalidInput(
            "the nonce must be 1 to 128 letters, digits, '-', '_' or '.'".into(),
        ))
    }
}

impl RpsAccount {
    /// Makes sure the server (Yealink, ALE), group (Fanvil), site (Grandstream) or endpoint
    /// list (Snom REST) exists, creating or updating it where the vendor allows.
    pub fn ensure_server(&self, spec: &ServerSpec) -> Op<ServerRef> {
        self.op(|c| c.ensure_server(spec))
    }

    /// Whether [`RpsAccount::register`] needs the server's id from
    /// [`RpsAccount::ensure_server`] first (Yealink and ALE point phones at a server object).
    pub fn needs_server(&self) -> bool {
        self.client().needs_server()
    }

    /// Where the vendor is to send this account's phones, given `own`, a URL on this system
    /// (the phone's own, or the site's for a server object): `own`, except for ALE, whose
    /// phones this system does not configure: the provisioning server the account names,
    /// or an error when it names none (a person must set `provisioning_url`).
    pub fn target_url<'a>(&'a self, own: &'a str) -> Result<&'a str, RpsError> {
        self.client().target_url(own)
    }

    /// Lets this account's later ops start from `session` (an earlier op's
    /// [`Op::session`]): GDMS then asks for no new token while it is valid, and asks once
    /// more if the vendor refuses it mid-op. Other vendors keep no session.
    pub fn resume(&mut self, session: Session) {
        self.client_mut().resume(session);
    }

    /// Registers the phone, or updates its registration: idempotent.
    pub fn register(&self, phone: &RpsPhone) -> Op<Registration> {
        self.op(|c| c.register(phone))
    }

    /// Removes the phone's registration; "not registered" is success
    /// ([`Removal::AlreadyGone`]).
    pub fn remove(&self, mac: Mac) -> Op<Removal> {
        self.op(|c| c.remove(mac))
    }

    /// Reads the phone's registration (and whether its URL is `phone.url`).
    pub fn status(&self, phone: &RpsPhone) -> Op<PhoneStatus> {
        self.op(|c| c.status(phone))
    }

    /// The op the vendor's client starts, or one that fails at once with its reason.
    fn op<T: OpResult>(&self, start: impl FnOnce(&dyn Client) -> Started) -> Op<T> {
        let client = self.client();
        let vendor = client.vendor().as_str();
        match start(client) {
            Ok(machine) => Op::boxed(vendor, machine),
            Err(e) => Op::failed(vendor, e),
        }
    }
}
