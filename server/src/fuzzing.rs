//! The body of the request-body fuzz target (`core/fuzz`, target `bodies`): arbitrary bytes
//! as a form and as JSON, never a panic, and the strict form decoding agreeing with the
//! WHATWG decoder (`url::form_urlencoded`) on everything it accepts. The checked-in seeds
//! and crash files are replayed by the test below in every `cargo xtask test`. Not part of
//! the API (feature `fuzzing`).

use crate::filters::body::{Form, form_pairs, json_object};

/// Request bodies: the OAuth endpoints' forms and the session routes' JSON.
pub fn bodies(data: &[u8]) {
    if let Some(pairs) = form_pairs(data) {
        let reference: Vec<(String, String)> =
            url::form_urlencoded::parse(data).into_owned().collect();
        assert_eq!(pairs, reference, "{data:?}");
    }
    if let Ok(form) = Form::read(Some("application/x-www-form-urlencoded"), data) {
        let _ = form.get("grant_type");
    }
    let _ = json_object(Some("application/json"), data);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod replay {
    use std::path::Path;

    #[test]
    fn the_bodies_corpus_passes() {
        let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/fuzz");
        let mut count = 0;
        for dir in ["seeds", "artifacts"] {
            let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join("bodies")) else {
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                let data = std::fs::read(&path).unwrap();
                let outcome = std::panic::catch_unwind(|| super::bodies(&data));
                assert!(
                    outcome.is_ok(),
                    "{} fails the target bodies",
                    path.display()
                );
                count += 1;
            }
        }
        assert!(count > 0, "the fuzz target bodies has no seeds");
    }
}
