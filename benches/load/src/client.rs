//! One simulated client: a blocking HTTP/1.1 agent holding one keep-alive connection.

use std::time::{Duration, Instant};

use serde_json::Value;

/// A connection to the server under test.
pub struct Client {
    agent: ureq::Agent,
    base: String,
}

/// What one request gave: its status and how long it took.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    /// The HTTP status (0 when the request failed before a response).
    pub status: u16,
    /// From sending the request to having read the whole body.
    pub latency: Duration,
}

impl Outcome {
    /// A 2xx answer.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl Client {
    /// A client of the API at `base` (e.g. `http://127.0.0.1:8000/api/v1`).
    pub fn new(base: &str) -> Client {
        let agent = ureq::Agent::config_builder()
            // 4xx and 5xx are outcomes to count, not errors.
            .http_status_as_error(false)
            .max_idle_connections(1)
            .max_idle_connections_per_host(1)
            .build()
            .into();
        Client {
            agent,
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// Logs `username` in; the access token.
    pub fn login(&self, username: &str, password: &str) -> Result<String, String> {
        let url = format!("{}/auth/token", self.base);
        let mut response = self
            .agent
            .post(&url)
            .send_form([("username", username), ("password", password)])
            .map_err(|error| format!("login of {username}: {error}"))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .read_to_string()
            .map_err(|error| format!("login of {username}: {error}"))?;
        if status != 200 {
            return Err(format!("login of {username}: {status} {body}"));
        }
        let json: Value = serde_json::from_str(&body).map_err(|error| error.to_string())?;
        json.get("access_token")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("login of {username}: no access_token in {body}"))
    }

    /// `GET {base}{path}` as `token`, parsed as JSON (for set-up, not timed).
    pub fn get_json(&self, path: &str, token: &str) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let mut response = self
            .agent
            .get(&url)
            .header("authorization", format!("Bearer {token}"))
            .call()
            .map_err(|error| format!("GET {path}: {error}"))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .read_to_string()
            .map_err(|error| format!("GET {path}: {error}"))?;
        if status != 200 {
            return Err(format!("GET {path}: {status} {body}"));
        }
        serde_json::from_str(&body).map_err(|error| format!("GET {path}: {error}"))
    }

    /// One timed request of `{base}{path}` as `token`, the body read to the end so the
    /// connection can be reused.
    pub fn timed(&self, method: Method, path: &str, bearer: &str) -> Outcome {
        let url = format!("{}{path}", self.base);
        let started = Instant::now();
        let response = match method {
            Method::Get => self.agent.get(&url).header("authorization", bearer).call(),
            Method::Post => self
                .agent
                .post(&url)
                .header("authorization", bearer)
                .send_empty(),
            Method::Patch(body) => self
                .agent
                .patch(&url)
                .header("authorization", bearer)
                .header("content-type", "application/json")
                .send(body),
            Method::Delete => self
                .agent
                .delete(&url)
                .header("authorization", bearer)
                .call(),
        };
        let status = match response {
            Ok(mut response) => {
                let status = response.status().as_u16();
                match response.body_mut().read_to_vec() {
                    Ok(_) => status,
                    Err(_) => 0,
                }
            }
            Err(_) => 0,
        };
        Outcome {
            status,
            latency: started.elapsed(),
        }
    }
}

/// A timed request's method (and a PATCH's JSON body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST` with an empty body.
    Post,
    /// `PATCH` with this JSON body.
    Patch(&'static str),
    /// `DELETE`.
    Delete,
}
