//! OpenSSH public keys: parsing what ImportKeyPair receives into one normalised form,
//! encoding generated keys the same way, and the SHA256 fingerprint that decides identity.
//!
//! Both paths (import and create) end in [`PublicKey::from_key_data`], so a created key
//! and the same key imported are indistinguishable to the store.

use crate::{Error, Result};
use base64ct::{Base64, Encoding};
use ssh_key::{public::KeyData, HashAlg};
use std::fmt;

/// Smallest RSA modulus accepted on import, in bits.
pub const MIN_RSA_BITS: usize = 1024;
/// Largest RSA modulus accepted on import, in bits.
pub const MAX_RSA_BITS: usize = 16384;
/// Longest comment kept after the key data, in characters.
pub const MAX_COMMENT_CHARS: usize = 256;
/// Longest public-key line accepted, in bytes, checked before anything else. The largest
/// key accepted ([`MAX_RSA_BITS`], a 16384-bit modulus with a 4-byte exponent) encodes
/// in 2,768 base64 characters; with `ssh-rsa `, a space and a [`MAX_COMMENT_CHARS`]
/// comment of up to 4 bytes a character, every acceptable line fits in 4,096 bytes.
pub const MAX_PUBLIC_KEY_LEN: usize = 4096;

const RSA: &str = "ssh-rsa";
/// Algorithm names OpenSSH knows, to tell "another algorithm" and "options prefix" apart
/// from plain garbage.
const KNOWN_ALGORITHMS: &[&str] = &[
    "ssh-rsa",
    "ssh-ed25519",
    "ssh-dss",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-rsa-cert-v01@openssh.com",
    "ssh-ed25519-cert-v01@openssh.com",
];

/// The first character a public-key line may not hold: a control character (NUL, ESC,
/// tab…) or whitespace other than a plain space (no-break space and the like).
fn stray_char(text: &str) -> Option<char> {
    text.chars()
        .find(|c| c.is_control() || (c.is_whitespace() && *c != ' '))
}

/// The SHA256 fingerprint of a public key blob, printed as OpenSSH does
/// (`SHA256:` and unpadded base64). It ignores the comment.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The `SHA256:…` text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Rebuilds a fingerprint read back from storage. Stores only; the text must be one
    /// this crate produced.
    pub fn from_stored(s: String) -> Self {
        Fingerprint(s)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An RSA public key in normalised OpenSSH form: `ssh-rsa <base64> [comment]`, single
/// spaces, canonical base64, with its fingerprint.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PublicKey {
    openssh: String,
    fingerprint: Fingerprint,
    bits: usize,
}

impl PublicKey {
    /// Parses one OpenSSH RSA public-key line as a user would paste it from
    /// `~/.ssh/id_rsa.pub`. Every rejection says what is wrong.
    pub fn parse_openssh(input: &str) -> Result<Self> {
        if input.len() > MAX_PUBLIC_KEY_LEN {
            return Err(malformed(&format!(
                "it is {} bytes long; a public-key line has at most {MAX_PUBLIC_KEY_LEN} bytes (an RSA key of up to {MAX_RSA_BITS} bits and a comment of up to {MAX_COMMENT_CHARS} characters)",
                input.len()
            )));
        }
        let line = input.trim_matches(|c: char| c.is_ascii_whitespace());
        if line.is_empty() {
            return Err(malformed(
                "it is empty; paste one line like `ssh-rsa AAAA… comment`",
            ));
        }
        if line.starts_with("-----BEGIN") {
            return Err(malformed(
                "it is PEM armour (-----BEGIN …); give the OpenSSH one-line form, e.g. from `ssh-keygen -y -f key`",
            ));
        }
        if line.starts_with("---- BEGIN SSH2") {
            return Err(malformed(
                "it is RFC 4716 (SSH2) armour; convert it with `ssh-keygen -i -f key.pub`",
            ));
        }
        if line.contains(['\n', '\r']) {
            return Err(malformed(
                "it has several lines; give exactly one key on one line",
            ));
        }
        if let Some(c) = stray_char(line) {
            return Err(malformed(&format!(
                "it contains the character U+{:04X}; separate the fields with plain spaces and use no control characters",
                u32::from(c)
            )));
        }
        let tokens: Vec<&str> = line.split(' ').filter(|t| !t.is_empty()).collect();
        let algorithm = tokens[0];
        if algorithm != RSA {
            if KNOWN_ALGORITHMS.contains(&algorithm) {
                return Err(malformed(&format!(
                    "algorithm {algorithm} is not supported; only ssh-rsa keys can be imported"
                )));
            }
            if tokens[1..].iter().any(|t| KNOWN_ALGORITHMS.contains(t)) {
                return Err(malformed(
                    "it starts with an options prefix (authorized_keys options); remove everything before `ssh-rsa`",
                ));
            }
            return Err(malformed(&format!(
                "it must start with `ssh-rsa`, not {:?}",
                truncate(algorithm)
            )));
        }
        let Some(data) = tokens.get(1) else {
            return Err(malformed("the base64 key data after `ssh-rsa` is missing"));
        };
        let comment_tokens = tokens.get(2..).unwrap_or_default();
        if comment_tokens.iter().any(|t| KNOWN_ALGORITHMS.contains(t)) {
            return Err(malformed("it holds several keys; give exactly one"));
        }
        let blob = Base64::decode_vec(data).map_err(|_| {
            malformed("the key data is not valid base64 (it may be truncated or contain stray characters)")
        })?;
        match inner_algorithm(&blob) {
            Some(inner) if inner == RSA.as_bytes() => {}
            Some(inner) => {
                return Err(malformed(&format!(
                    "the key data is for {:?} but the line says ssh-rsa",
                    String::from_utf8_lossy(inner)
                )))
            }
            None => return Err(malformed("the key data is truncated or corrupt")),
        }
        let key = ssh_key::PublicKey::from_bytes(&blob)
            .map_err(|_| malformed("the key data is truncated or corrupt"))?;
        Self::from_key_data(key.key_data().clone(), &comment_tokens.join(" "))
    }

    /// Builds the normalised form of an RSA key with a comment; both parsing and key
    /// generation end here.
    pub fn from_key_data(key_data: KeyData, comment: &str) -> Result<Self> {
        let Some(rsa) = key_data.rsa() else {
            return Err(malformed("only ssh-rsa keys are supported"));
        };
        let modulus = rsa.n.as_positive_bytes().unwrap_or_default();
        let bits = bit_length(modulus);
        if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
            return Err(malformed(&format!(
                "the RSA modulus has {bits} bits; between {MIN_RSA_BITS} and {MAX_RSA_BITS} are accepted"
            )));
        }
        let e = rsa.e.as_positive_bytes().unwrap_or_default();
        if e.last().is_none_or(|b| b & 1 == 0) || bit_length(e) < 2 {
            return Err(malformed(
                "the RSA public exponent must be odd and at least 3",
            ));
        }
        let comment = comment.trim_matches(|c: char| c.is_ascii_whitespace());
        let chars = comment.chars().count();
        if chars > MAX_COMMENT_CHARS {
            return Err(malformed(&format!(
                "its comment has {chars} characters; at most {MAX_COMMENT_CHARS} are kept"
            )));
        }
        if let Some(c) = stray_char(comment) {
            return Err(malformed(&format!(
                "its comment contains the character U+{:04X}; use no control characters",
                u32::from(c)
            )));
        }
        let key = ssh_key::PublicKey::new(key_data, comment);
        let openssh = key
            .to_openssh()
            .map_err(|e| malformed(&format!("it cannot be encoded: {e}")))?;
        let fingerprint = Fingerprint(key.fingerprint(HashAlg::Sha256).to_string());
        Ok(PublicKey {
            openssh,
            fingerprint,
            bits,
        })
    }

    /// Rebuilds a key read back from storage without re-parsing. Stores only; the values
    /// must be ones this crate produced.
    pub fn from_stored(openssh: String, fingerprint: Fingerprint, bits: usize) -> Self {
        PublicKey {
            openssh,
            fingerprint,
            bits,
        }
    }

    /// The normalised `ssh-rsa <base64> [comment]` line.
    pub fn as_openssh(&self) -> &str {
        &self.openssh
    }

    /// The SHA256 fingerprint of the key blob.
    pub fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// The key data, for comparing keys regardless of comment.
    pub fn key_data(&self) -> KeyData {
        // The line was produced by `from_key_data`, so it parses.
        ssh_key::PublicKey::from_openssh(&self.openssh)
            .map(|k| k.key_data().clone())
            .unwrap_or_else(|_| unreachable!("a normalised key always re-parses"))
    }
}

fn malformed(reason: &str) -> Error {
    Error::PublicKeyMalformed(reason.to_owned())
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

/// The algorithm name at the start of an SSH public-key blob (a u32 length and bytes).
fn inner_algorithm(blob: &[u8]) -> Option<&[u8]> {
    let len = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
    blob.get(4..4usize.checked_add(len)?)
}

fn bit_length(be: &[u8]) -> usize {
    let Some(first) = be.iter().position(|b| *b != 0) else {
        return 0;
    };
    (be.len() - first) * 8 - be[first].leading_zeros() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seed's 1024-bit key (spec §7), whose SHA256 fingerprint is documented.
    pub(crate) const SEED: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDP0Yw2T4itUKOJQIK69c1Asy1UO88cxEbujR5Jbr0e/Ey1v4ZKAUzDnsBnFlf4hKPA1YvMB8RBYj4GcLtM7PrKnBNNram8rgl73X/klOO8oqKv+J/XUA7KHH1Y6wcn1RTRTMdDHbGhW1q/UpfeylNTbf+wEIWhEfaL5FKQm4hqCw== skey_112168";

    #[test]
    fn seed_key_fingerprint_matches_ssh_keygen() {
        let k = PublicKey::parse_openssh(SEED).unwrap();
        assert_eq!(
            k.fingerprint().as_str(),
            "SHA256:7kEDPZu7L8dUNYq/vpqL4n7l16aU8WDpv1jjSUnRDLQ"
        );
        assert_eq!(k.bits(), 1024);
        assert_eq!(k.as_openssh(), SEED);
    }

    #[test]
    fn normalises_whitespace_and_keeps_comment() {
        let messy = format!("  {}  \n", SEED.replace(' ', "   "));
        let k = PublicKey::parse_openssh(&messy).unwrap();
        assert_eq!(k.as_openssh(), SEED);
        let no_comment = SEED.rsplit_once(' ').unwrap().0;
        let k2 = PublicKey::parse_openssh(no_comment).unwrap();
        assert_eq!(k2.fingerprint(), k.fingerprint());
        assert_eq!(k2.as_openssh(), no_comment);
    }

    fn reason(input: &str) -> String {
        match PublicKey::parse_openssh(input) {
            Err(Error::PublicKeyMalformed(r)) => r,
            other => panic!("expected malformed for {input:?}, got {other:?}"),
        }
    }

    #[test]
    fn each_rejection_says_what_is_wrong() {
        let (alg_and_data, _) = SEED.rsplit_once(' ').unwrap();
        let data = alg_and_data.split(' ').nth(1).unwrap();
        assert!(reason("").contains("empty"));
        assert!(reason("   \n ").contains("empty"));
        assert!(reason(&format!("{SEED}\n{SEED}")).contains("several lines"));
        assert!(reason(&format!("{alg_and_data} {alg_and_data}")).contains("several keys"));
        assert!(reason(&format!("no-pty,command=\"x\" {SEED}")).contains("options prefix"));
        assert!(reason("-----BEGIN RSA PUBLIC KEY-----").contains("PEM"));
        assert!(reason("---- BEGIN SSH2 PUBLIC KEY ----").contains("RFC 4716"));
        assert!(reason("ssh-rsa").contains("missing"));
        assert!(reason("ssh-rsa AAAA$$$$").contains("base64"));
        assert!(reason(&format!("ssh-rsa {}", &data[..100])).contains("truncated"));
        assert!(reason(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILM+rvN+ot98qgEN796jTiQfZfG1KaT0PtFDJ/XFSqti a@b"
        )
        .contains("only ssh-rsa"));
        assert!(reason(
            "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAILM+rvN+ot98qgEN796jTiQfZfG1KaT0PtFDJ/XFSqti"
        )
        .contains("ssh-ed25519"));
        assert!(reason("rsa AAAA").contains("must start with `ssh-rsa`"));
    }

    #[test]
    fn sizes_and_characters_are_bounded() {
        let (alg_and_data, _) = SEED.rsplit_once(' ').unwrap();
        let huge = format!("{alg_and_data} {}", "c".repeat(1_000_000));
        assert!(
            reason(&huge).contains(&format!("{} bytes long", huge.len())),
            "{}",
            reason(&huge)
        );
        let long_comment = format!("{alg_and_data} {}", "c".repeat(MAX_COMMENT_CHARS + 1));
        assert!(reason(&long_comment).contains("257 characters"));
        let at_bound = format!("{alg_and_data} {}", "c".repeat(MAX_COMMENT_CHARS));
        assert!(PublicKey::parse_openssh(&at_bound).is_ok());
        assert!(reason(&SEED.replacen(' ', "\u{a0}", 1)).contains("U+00A0"));
        assert!(reason(&format!("{alg_and_data} a\u{0}b")).contains("U+0000"));
        assert!(reason(&format!("{alg_and_data} a\u{1b}[31mred")).contains("U+001B"));
        assert!(reason(&SEED.replacen(' ', "\t", 1)).contains("U+0009"));
        // The largest key accepted, with the longest comment, fits the line bound.
        let n = vec![0xffu8; MAX_RSA_BITS / 8];
        let biggest = KeyData::Rsa(ssh_key::public::RsaPublicKey {
            e: ssh_key::Mpint::from_positive_bytes(&[0x7f, 0xff, 0xff, 0xff]).unwrap(),
            n: ssh_key::Mpint::from_positive_bytes(&n).unwrap(),
        });
        let comment = "\u{10348}".repeat(MAX_COMMENT_CHARS);
        let line = PublicKey::from_key_data(biggest, &comment).unwrap();
        assert!(
            line.as_openssh().len() <= MAX_PUBLIC_KEY_LEN,
            "{}",
            line.as_openssh().len()
        );
        assert!(PublicKey::parse_openssh(line.as_openssh()).is_ok());
    }

    #[test]
    fn rsa_size_limits() {
        use ssh_key::{public::RsaPublicKey, Mpint};
        let key = |bits: usize| {
            let mut n = vec![0xffu8; bits / 8];
            n[bits / 8 - 1] |= 1;
            KeyData::Rsa(RsaPublicKey {
                e: Mpint::from_positive_bytes(&[1, 0, 1]).unwrap(),
                n: Mpint::from_positive_bytes(&n).unwrap(),
            })
        };
        assert!(PublicKey::from_key_data(key(1024), "").is_ok());
        assert!(PublicKey::from_key_data(key(16384), "").is_ok());
        let small = PublicKey::from_key_data(key(1016), "").unwrap_err();
        assert!(small.to_string().contains("1016 bits"), "{small}");
        assert!(PublicKey::from_key_data(key(16392), "").is_err());
    }
}
