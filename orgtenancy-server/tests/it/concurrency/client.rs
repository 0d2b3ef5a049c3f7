//! A blocking HTTP client for the load tests: one `ureq` agent (own keep-alive connection) per
//! simulated client, transport errors returned rather than panicking (the crash test expects
//! them once the server is killed).

use std::time::Duration;

use serde_json::Value;
use ureq::Agent;

use crate::support::PASSWORD;

/// One response, read whole.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    /// The status code.
    pub(crate) status: u16,
    /// The body as JSON (`Value::Null` when empty or not JSON).
    pub(crate) json: Value,
    /// Whether a `Retry-After` header came with it.
    pub(crate) retry_after: bool,
}

impl Answer {
    /// Whether the status is 2xx.
    pub(crate) fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The `id` field.
    #[track_caller]
    pub(crate) fn id(&self) -> i64 {
        self.json["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("no id in {} {}", self.status, self.json))
    }
}

/// A client of one server, acting as one user (or anonymously).
#[derive(Clone)]
pub(crate) struct Http {
    agent: Agent,
    /// The server's root URL.
    pub(crate) base: String,
    /// The bearer token, once logged in.
    pub(crate) token: Option<String>,
}

impl Http {
    /// An anonymous client of the server at `base`.
    pub(crate) fn new(base: &str) -> Http {
        let agent = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        Http {
            agent,
            base: base.to_owned(),
            token: None,
        }
    }

    /// The same user's token on another server (a fresh connection).
    pub(crate) fn on(&self, base: &str) -> Http {
        Http {
            token: self.token.clone(),
            ..Http::new(base)
        }
    }

    /// `method /api/v1{path}` with an optional JSON body.
    pub(crate) fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, ureq::Error> {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}/api/v1{path}", self.base));
        if let Some(token) = &self.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let response = match body {
            Some(body) => {
                let bytes = serde_json::to_vec(body).expect("serialise a JSON body");
                let request = request
                    .header("Content-Type", "application/json")
                    .body(bytes)?;
                self.agent.run(request)?
            }
            None => self.agent.run(request.body(())?)?,
        };
        Ok(read(response))
    }

    /// Like [`Http::send`], failing the test on a transport error.
    #[track_caller]
    pub(crate) fn must(&self, method: &str, path: &str, body: Option<&Value>) -> Answer {
        self.send(method, path, body)
            .unwrap_or_else(|error| panic!("{method} {path}: {error}"))
    }

    /// `POST /auth/token` with the harness password; the whole answer.
    pub(crate) fn login_answer(&self, username: &str) -> Result<Answer, ureq::Error> {
        let response = self
            .agent
            .post(format!("{}/api/v1/auth/token", self.base))
            .send_form([("username", username), ("password", PASSWORD)])?;
        Ok(read(response))
    }

    /// Logs in as `username` (harness password), keeping the access token.
    #[track_caller]
    pub(crate) fn login(&mut self, username: &str) -> Answer {
        let answer = self
            .login_answer(username)
            .unwrap_or_else(|error| panic!("login {username}: {error}"));
        assert_eq!(answer.status, 200, "login {username}: {}", answer.json);
        self.token = answer.json["access_token"].as_str().map(str::to_owned);
        answer
    }

    /// Every row of a paginated list at `path` (which has no query string yet).
    #[track_caller]
    pub(crate) fn list_all(&self, path: &str) -> Vec<Value> {
        let mut rows = Vec::new();
        loop {
            let page = self.must(
                "GET",
                &format!("{path}?skip={}&limit=1000", rows.len()),
                None,
            );
            assert_eq!(page.status, 200, "GET {path}: {}", page.json);
            let batch = page.json.as_array().cloned().unwrap_or_default();
            let done = batch.len() < 1000;
            rows.extend(batch);
            if done {
                return rows;
            }
        }
    }
}

fn read(mut response: ureq::http::Response<ureq::Body>) -> Answer {
    let status = response.status().as_u16();
    let retry_after = response.headers().contains_key("retry-after");
    let text = response.body_mut().read_to_string().unwrap_or_default();
    Answer {
        status,
        json: serde_json::from_str(&text).unwrap_or(Value::Null),
        retry_after,
    }
}
