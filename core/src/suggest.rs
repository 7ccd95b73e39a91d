//! The name a user probably meant, for error messages: the command line's settings, the
//! config file's keys and the npm package's option names all suggest with [`closest`], so a
//! typo gets the same "did you mean" everywhere.

/// The known name closest to `given` by edit distance (insertions, deletions,
/// substitutions and swaps of neighbours, case ignored), if one is close enough to be a
/// typo of it: at most a third of its length away (at least one edit). Ties go to the
/// first in `known`.
///
/// ```
/// use jwtkit_core::suggest::closest;
/// assert_eq!(closest("token_tll", &["bind", "token_ttl"]), Some("token_ttl"));
/// assert_eq!(closest("leeway", &["leewaySeconds", "now"]), Some("leewaySeconds"));
/// assert_eq!(closest("colour", &["bind", "token_ttl"]), None);
/// ```
pub fn closest<'a>(given: &str, known: &[&'a str]) -> Option<&'a str> {
    let given = given.to_ascii_lowercase();
    known
        .iter()
        .filter_map(|&name| {
            let lower = name.to_ascii_lowercase();
            // A prefix of a longer name (`leeway` for `leewaySeconds`) is a near miss too.
            let distance = if lower.starts_with(&given) && given.len() >= 3 {
                1
            } else {
                distance(&given, &lower)
            };
            (distance <= (name.len() / 3).max(1)).then_some((distance, name))
        })
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, name)| name)
}

/// The optimal string alignment distance of `a` and `b`, by characters.
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // Three rows of the dynamic-programming table: two back, one back, this one.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut row = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        row[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            row[j] = (previous[j] + 1)
                .min(row[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                row[j] = row[j].min(before[j - 2] + 1);
            }
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut row);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("", ""), 0);
        assert_eq!(distance("abc", ""), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("tll", "ttl"), 1, "a swap is one edit");
        assert_eq!(distance("role", "roles"), 1);
    }

    #[test]
    fn typos_find_their_name_and_strangers_none() {
        let keys = ["name", "hash", "roles"];
        assert_eq!(closest("role", &keys), Some("roles"));
        assert_eq!(closest("Hash", &keys), Some("hash"));
        assert_eq!(closest("zzzzz", &keys), None);
        assert_eq!(closest("", &keys), None);
        assert_eq!(
            closest("refreshUrl", &["refreshURL", "logoutUrl"]),
            Some("refreshURL")
        );
    }
}
