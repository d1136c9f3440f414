//! What a failed request's causes say, read from their types, never from
//! their text: a reworded message in kube, hyper or rustls cannot move an
//! exit code.

use std::error::Error as StdError;
use std::io;

use kube::client::AuthError;
use tokio_rustls::rustls;

/// What the causes of a failure show, as far as the exit code cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// The kubeconfig user's exec credential plugin is missing or failed.
    ExecPlugin,
    /// The server's certificate is not one the kubeconfig cluster trusts.
    UntrustedServer,
    /// A connect or handshake bound ran out.
    TimedOut,
}

/// Every cause of `e`, outermost first. An `io::Error` that wraps another
/// error is stepped into: its own `source()` skips the wrapped error and
/// goes straight to that error's source.
pub fn causes<'a>(e: &'a (dyn StdError + 'static)) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(e), |&e: &&'a (dyn StdError + 'static)| {
        match e.downcast_ref::<io::Error>().and_then(io::Error::get_ref) {
            Some(inner) => Some(inner as &'a (dyn StdError + 'static)),
            None => e.source(),
        }
    })
}

/// The first cause that decides the exit code, outermost first.
pub fn classify(e: &(dyn StdError + 'static)) -> Option<Cause> {
    causes(e).find_map(|e| {
        if let Some(auth) = e.downcast_ref::<AuthError>() {
            return exec_plugin(auth).then_some(Cause::ExecPlugin);
        }
        if let Some(rustls::Error::InvalidCertificate(_)) = e.downcast_ref::<rustls::Error>() {
            return Some(Cause::UntrustedServer);
        }
        if e.downcast_ref::<io::Error>().is_some_and(|io| io.kind() == io::ErrorKind::TimedOut)
            || e.is::<tokio::time::error::Elapsed>()
        {
            return Some(Cause::TimedOut);
        }
        None
    })
}

/// kube's errors of running `users[].user.exec`.
fn exec_plugin(e: &AuthError) -> bool {
    matches!(
        e,
        AuthError::ExecPluginFailed
            | AuthError::AuthExecStart(_)
            | AuthError::AuthExecRun { .. }
            | AuthError::AuthExecParse(_)
            | AuthError::AuthExecSerialize(_)
            | AuthError::AuthExec(_)
            | AuthError::MissingCommand
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt;

    /// A layer whose text says nothing (or something misleading) about
    /// what it wraps.
    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<dyn StdError + Send + Sync>>);

    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl StdError for Layer {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            self.1.as_deref().map(|e| e as &(dyn StdError + 'static))
        }
    }

    fn wrapped(inner: impl StdError + Send + Sync + 'static) -> Layer {
        Layer("client error (Connect)", Some(Box::new(inner)))
    }

    #[test]
    fn types_decide_whatever_the_text_says() {
        let exec = kube::Error::Auth(AuthError::AuthExec("the plugin said something new".into()));
        assert_eq!(classify(&wrapped(exec)), Some(Cause::ExecPlugin));
        let cert = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let tls = io::Error::new(io::ErrorKind::InvalidData, cert);
        assert_eq!(classify(&wrapped(tls)), Some(Cause::UntrustedServer), "inside an io::Error");
        let slow = io::Error::new(io::ErrorKind::TimedOut, Layer("took a while", None));
        assert_eq!(classify(&wrapped(slow)), Some(Cause::TimedOut));
    }

    #[tokio::test(start_paused = true)]
    async fn tokio_elapsed_is_a_timeout() {
        let elapsed =
            tokio::time::timeout(std::time::Duration::from_millis(1), std::future::pending::<()>()).await.unwrap_err();
        assert_eq!(classify(&wrapped(io::Error::other(elapsed))), Some(Cause::TimedOut));
    }

    #[test]
    fn text_alone_decides_nothing() {
        for text in ["auth exec failed", "invalid peer certificate: UnknownIssuer", "deadline has elapsed"] {
            assert_eq!(classify(&wrapped(Layer(text, None))), None, "{text}");
            assert_eq!(classify(&wrapped(io::Error::other(text))), None, "{text}");
        }
        // Not every auth error is the exec plugin's.
        let token = kube::Error::Auth(AuthError::UnrefreshableTokenResponse);
        assert_eq!(classify(&wrapped(token)), None);
    }
}
