//! A minimal HTTP/1.1 client over one keep-alive connection, for the session benchmarks
//! (each refresh needs the token the previous one returned, which wrk cannot chain).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

/// A response: its status, headers (names in lower case) and body.
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: String,
}

impl Answer {
    /// The first header `name` (lower case).
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One keep-alive connection.
pub(super) struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    pub(super) fn connect(addr: &str) -> Result<Self, String> {
        let stream = TcpStream::connect(addr).map_err(|e| format!("{addr}: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let writer = stream.try_clone().map_err(|e| e.to_string())?;
        Ok(Self {
            reader: BufReader::new(stream),
            writer,
        })
    }

    /// `method path` with these extra headers and a JSON body (empty: none); the status and
    /// the body.
    pub(super) fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Result<(u16, String), String> {
        let mime = (!body.is_empty()).then_some("application/json");
        let answer = self.exchange(method, path, headers, mime, body)?;
        Ok((answer.status, answer.body))
    }

    /// `method path` with these extra headers and a body of `mime`; the whole answer.
    pub(super) fn exchange(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        mime: Option<&str>,
        body: &str,
    ) -> Result<Answer, String> {
        let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: bench\r\n");
        for (name, value) in headers {
            raw.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some(mime) = mime {
            raw.push_str(&format!("Content-Type: {mime}\r\n"));
        }
        raw.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        self.writer
            .write_all(raw.as_bytes())
            .map_err(|e| e.to_string())?;
        let mut status_line = String::new();
        self.reader
            .read_line(&mut status_line)
            .map_err(|e| e.to_string())?;
        let status = status_line
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("not an HTTP response: {status_line:?}"))?;
        let mut length = 0;
        let mut answer_headers = Vec::new();
        loop {
            let mut line = String::new();
            self.reader
                .read_line(&mut line)
                .map_err(|e| e.to_string())?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().map_err(|_| "bad Content-Length")?;
                }
                answer_headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        let mut body = vec![0; length];
        self.reader
            .read_exact(&mut body)
            .map_err(|e| e.to_string())?;
        Ok(Answer {
            status,
            headers: answer_headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }

    /// POST a JSON body; the status and the body as JSON.
    pub(super) fn post_json(
        &mut self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<(u16, serde_json::Value), String> {
        let (status, text) = self.request("POST", path, &[], &body.to_string())?;
        let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        Ok((status, json))
    }
}

/// `/api/v3/auth` with `key`: (access token, refresh token).
pub(super) fn login(addr: &str, key: &str) -> Result<(String, String), String> {
    let (status, body) =
        Client::connect(addr)?.post_json("/api/v3/auth", &serde_json::json!({ "api-key": key }))?;
    let token = |name: &str| body["data"][name].as_str().map(str::to_owned);
    match (status, token("token"), token("refresh_token")) {
        (200, Some(access), Some(refresh)) => Ok((access, refresh)),
        _ => Err(format!("auth answered {status}: {body}")),
    }
}
