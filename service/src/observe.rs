//! Per-route instrumentation: in-flight gauge, request counter, latency histogram, optional
//! debug request log, and the URI length guard.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use axum::BoxError;
use axum::body::{Body, Bytes, HttpBody};
use axum::http::{Method, Request, Response, StatusCode};
use tower::{Layer, Service};

use crate::errors;
use crate::metrics::{InFlight, Metrics, Route};

/// Request targets (path and query) longer than this are answered with 414.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// Wraps one route's service with metrics bound to that route.
#[derive(Debug, Clone)]
pub struct ObserveLayer {
    route: Route,
    metrics: &'static Metrics,
}

impl ObserveLayer {
    /// Instrument the service of `route`.
    pub fn new(route: Route, metrics: &'static Metrics) -> Self {
        Self { route, metrics }
    }
}

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Observe {
            inner,
            route: self.route,
            metrics: self.metrics,
        }
    }
}

/// The service made by [`ObserveLayer`].
#[derive(Debug, Clone)]
pub struct Observe<S> {
    inner: S,
    route: Route,
    metrics: &'static Metrics,
}

impl<S, B> Service<Request<Body>> for Observe<S>
where
    S: Service<Request<Body>, Response = Response<B>>,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = ObserveFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let start = Instant::now();
        let too_long = req
            .uri()
            .path_and_query()
            .is_some_and(|pq| pq.as_str().len() > MAX_URI_BYTES);
        let method = tracing::enabled!(tracing::Level::DEBUG).then(|| req.method().clone());
        let kind = if too_long {
            Kind::Rejected {
                resp: Some(errors::uri_too_long()),
            }
        } else {
            Kind::Inner {
                fut: self.inner.call(req),
            }
        };
        ObserveFuture {
            kind,
            start,
            route: self.route,
            method,
            in_flight: self.metrics.start(),
        }
    }
}

pin_project_lite::pin_project! {
    #[project = KindProj]
    enum Kind<F> {
        Inner { #[pin] fut: F },
        Rejected { resp: Option<Response<Body>> },
    }
}

pin_project_lite::pin_project! {
    /// Future of [`Observe`].
    pub struct ObserveFuture<F> {
        #[pin]
        kind: Kind<F>,
        start: Instant,
        route: Route,
        method: Option<Method>,
        in_flight: InFlight,
    }
}

impl<F, B, E> Future for ObserveFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Output = Result<Response<Body>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = match this.kind.project() {
            KindProj::Inner { fut } => ready!(fut.poll(cx)).map(|r| r.map(Body::new)),
            KindProj::Rejected { resp } => Ok(resp.take().unwrap_or_else(errors::internal)),
        };
        let result = result.map(errors::with_json_body);
        if let Ok(resp) = &result {
            let elapsed = this.start.elapsed();
            let status = resp.status();
            this.in_flight
                .metrics()
                .record(*this.route, status.as_u16(), elapsed);
            if let Some(method) = this.method.take() {
                log_request(&method, *this.route, status, elapsed);
            }
        }
        Poll::Ready(result)
    }
}

#[cold]
fn log_request(method: &Method, route: Route, status: StatusCode, elapsed: std::time::Duration) {
    tracing::debug!(
        method = %method,
        route = route.label(),
        status = status.as_u16(),
        micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
        "request"
    );
}
