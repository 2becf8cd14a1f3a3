//! The Language Server Protocol's framing on a byte stream: `Content-Length` headers and a
//! JSON-RPC body. Reading is forgiving where the protocol allows it: a body that is not a
//! JSON-RPC message gets a parse error (-32700, id `null`) and the next message is read, a
//! header line the server cannot use is skipped, and a body over [`MAX_BODY`] is refused
//! and skipped. Only the end of the stream (or a failed read) ends the reader.

use std::io::{BufRead, Read, Write};

use lsp_server::Message;

/// The largest message body read (an editor's whole-file change of a large template fits
/// many times over).
pub(crate) const MAX_BODY: usize = 64 * 1024 * 1024;

/// What reading one frame gave.
#[derive(Debug)]
pub(crate) enum Frame {
    Message(Message),
    /// A frame that is not a message: the error response to send (JSON-RPC with id `null`).
    Malformed(String),
    /// The stream ended.
    End,
}

/// Reads the next frame from `input`.
pub fn read(input: &mut impl BufRead) -> std::io::Result<Frame> {
    let mut length: Option<usize> = None;
    let mut bad_header: Option<String> = None;
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(Frame::End);
        }
        let header = line.trim_end_matches(['\r', '\n']);
        if header.is_empty() {
            if length.is_some() || bad_header.is_some() {
                break;
            }
            // Blank lines between messages.
            continue;
        }
        match header.split_once(':') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => {
                match value.trim().parse::<usize>() {
                    Ok(n) => length = Some(n),
                    Err(_) => bad_header = Some(format!("Content-Length is not a number: {:?}", value.trim())),
                }
            }
            Some(_) => {}
            None => bad_header = Some(format!("malformed header line {header:?}")),
        }
    }
    let Some(length) = length else {
        return Ok(Frame::Malformed(
            bad_header.unwrap_or_else(|| "message without Content-Length".to_string()),
        ));
    };
    if length > MAX_BODY {
        // Skip the body without holding it.
        std::io::copy(&mut input.by_ref().take(length as u64), &mut std::io::sink())?;
        return Ok(Frame::Malformed(format!(
            "message of {length} bytes is over the limit of {MAX_BODY}"
        )));
    }
    let mut body = vec![0; length];
    input.read_exact(&mut body)?;
    Ok(match serde_json::from_slice::<Message>(&body) {
        Ok(message) => Frame::Message(message),
        Err(e) => Frame::Malformed(format!("not a JSON-RPC message: {e}")),
    })
}

/// Writes one message.
pub fn write(out: &mut impl Write, message: &Message) -> std::io::Result<()> {
    message.write(out)
}

/// Writes the JSON-RPC parse error for a malformed frame.
pub(crate) fn write_parse_error(out: &mut impl Write, reason: &str) -> std::io::Result<()> {
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": { "code": -32700, "message": reason },
    })
    .to_string();
    write!(out, "Content-Length: {}\r\n\r\n{body}", body.len())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    fn frames(text: &str) -> Vec<String> {
        let mut input = std::io::Cursor::new(text.as_bytes().to_vec());
        let mut out = Vec::new();
        loop {
            match read(&mut input).map_err(|e| e.to_string()) {
                Ok(Frame::End) => return out,
                Ok(Frame::Message(Message::Request(r))) => out.push(format!("request {}", r.method)),
                Ok(Frame::Message(Message::Notification(n))) => out.push(format!("notification {}", n.method)),
                Ok(Frame::Message(Message::Response(r))) => out.push(format!("response {:?}", r.id)),
                Ok(Frame::Malformed(why)) => out.push(format!("malformed: {why}")),
                Err(e) => {
                    out.push(format!("error: {e}"));
                    return out;
                }
            }
        }
    }

    #[test]
    fn a_malformed_body_or_header_is_reported_and_the_next_message_still_read() {
        let text = [
            frame(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#),
            frame("{not json"),
            "Content-Length: twelve\r\n\r\n".to_string(),
            "garbage line\r\n\r\n".to_string(),
            frame(r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#),
        ]
        .concat();
        let got = frames(&text);
        assert_eq!(got.len(), 5, "{got:?}");
        assert_eq!(got[0], "request initialize");
        assert!(got[1].starts_with("malformed: not a JSON-RPC message"), "{got:?}");
        assert_eq!(got[2], "malformed: Content-Length is not a number: \"twelve\"");
        assert_eq!(got[3], "malformed: malformed header line \"garbage line\"");
        assert_eq!(got[4], "notification initialized");
    }

    #[test]
    fn a_body_over_the_limit_is_skipped_unread() {
        let big = MAX_BODY + 1;
        let mut text = format!("Content-Length: {big}\r\n\r\n").into_bytes();
        text.resize(text.len() + big, b' ');
        text.extend(frame(r#"{"jsonrpc":"2.0","method":"exit"}"#).bytes());
        let mut input = std::io::Cursor::new(text);
        assert!(matches!(read(&mut input).unwrap(), Frame::Malformed(m) if m.contains("over the limit")));
        assert!(matches!(read(&mut input).unwrap(), Frame::Message(Message::Notification(n)) if n.method == "exit"));
        assert!(matches!(read(&mut input).unwrap(), Frame::End));
    }

    #[test]
    fn a_parse_error_is_a_jsonrpc_error_with_a_null_id() {
        let mut out = Vec::new();
        write_parse_error(&mut out, "bad").unwrap();
        let text = String::from_utf8(out).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert_eq!(head, format!("Content-Length: {}", body.len()));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["id"], serde_json::Value::Null);
        assert_eq!(v["error"]["code"], -32700);
    }
}
