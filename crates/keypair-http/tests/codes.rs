//! Every code the wire can answer is defined for its product: in the installed official
//! Python SDK's `errorcodes.py` for that product, or on API 3.0's common list
//! (`keypair-wire/data/common-error-codes.txt`). The codes are walked, not listed: every row of
//! the domain table (one error of each kind, every instance state and busy condition),
//! every common code the wire and this crate answer ([`keypair_wire::codes::COMMON`]),
//! and each product's internal-error code; and no answer in either crate's source
//! spells a code of its own instead of taking it from there. The product lists the wire
//! embeds for fault rules ([`keypair_wire::codes::product_codes`]) are checked against
//! the installed SDK too.
//!
//! The SDK check needs the SDK: it is ignored by default, and CI runs it after the
//! end-to-end step installs the SDK, with `KEYPAIR_TENCENT_SDK` naming the installed
//! `tencentcloud` package directory.

use keypair_core::fixtures::{error_kind, one_error_of_each_kind};
use keypair_core::Product;
use keypair_wire::error::public_codes;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every (product, code) the wire can answer, with where it comes from.
fn emitted() -> BTreeMap<(Product, &'static str), String> {
    let mut out = BTreeMap::new();
    for err in one_error_of_each_kind() {
        for product in Product::ALL {
            let code = match public_codes(&err) {
                Some(row) => row.of(product),
                None => keypair_wire::spec(product).internal_error,
            };
            out.entry((product, code))
                .or_insert_with(|| format!("{} ({err})", error_kind(&err)));
        }
    }
    for code in keypair_wire::codes::COMMON {
        for product in Product::ALL {
            out.insert((product, code), "keypair_wire::codes".into());
        }
    }
    out
}

fn common_list() -> BTreeSet<&'static str> {
    keypair_wire::codes::common().collect()
}

/// The codes of one product's `errorcodes.py` (`NAME = 'Code'` lines).
fn sdk_codes(sdk: &Path, product: Product) -> BTreeSet<String> {
    let module = match product {
        Product::Cvm => "cvm/v20170312/errorcodes.py",
        Product::Lighthouse => "lighthouse/v20200324/errorcodes.py",
    };
    let path = sdk.join(module);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "read {}: {e}; is KEYPAIR_TENCENT_SDK the `tencentcloud` package directory?",
            path.display()
        )
    });
    let codes: BTreeSet<String> = text
        .lines()
        .filter_map(|l| l.split_once(" = '"))
        .filter_map(|(_, rest)| rest.strip_suffix('\''))
        .map(str::to_owned)
        .collect();
    assert!(
        codes.len() > 100,
        "{} holds only {} codes",
        path.display(),
        codes.len()
    );
    codes
}

#[test]
#[ignore = "needs the official Python SDK: KEYPAIR_TENCENT_SDK=<site-packages>/tencentcloud (CI sets it)"]
fn every_emitted_code_is_defined_for_its_product() {
    let sdk = PathBuf::from(std::env::var_os("KEYPAIR_TENCENT_SDK").expect(
        "set KEYPAIR_TENCENT_SDK to the installed `tencentcloud` package directory \
         (python3 -c 'import tencentcloud, os; print(os.path.dirname(tencentcloud.__file__))')",
    ));
    let common = common_list();
    let defined: BTreeMap<Product, BTreeSet<String>> =
        Product::ALL.map(|p| (p, sdk_codes(&sdk, p))).into();
    let emitted = emitted();
    let undefined: Vec<String> = emitted
        .iter()
        .filter(|((product, code), _)| !common.contains(code) && !defined[product].contains(*code))
        .map(|((product, code), from)| format!("{product}: {code}, from {from}"))
        .collect();
    assert!(
        undefined.is_empty(),
        "codes defined neither by the SDK nor as common codes:\n{}",
        undefined.join("\n")
    );
    for product in Product::ALL {
        let stale: Vec<&str> = keypair_wire::codes::product_codes(product)
            .filter(|c| !defined[&product].contains(*c))
            .collect();
        assert!(
            stale.is_empty(),
            "{product}: embedded codes the installed SDK no longer defines: {stale:?}"
        );
    }
    eprintln!("{} (product, code) pairs, every one defined", emitted.len());
}

#[test]
fn every_common_code_answered_is_on_the_common_list() {
    let common = common_list();
    for code in keypair_wire::codes::COMMON {
        assert!(
            common.contains(code),
            "{code} is not an API 3.0 common code"
        );
    }
    assert!(common.contains(keypair_wire::spec(Product::Lighthouse).internal_error));
}

/// The non-test part of every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read the source directory") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("read a source file");
            let code = text
                .split("#[cfg(test)]")
                .next()
                .unwrap_or_default()
                .to_owned();
            out.push((path, code));
        }
    }
    out
}

#[test]
fn no_answer_spells_a_code_of_its_own() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let spelled = regex::Regex::new(r#"(ApiError|Self)::new\(\s*""#).expect("regex");
    let mut found = Vec::new();
    for dir in [here.join("src"), here.join("../keypair-wire/src")] {
        for (path, code) in sources(&dir) {
            if spelled.is_match(&code) {
                found.push(path.display().to_string());
            }
        }
    }
    assert!(
        found.is_empty(),
        "answers with a literal code (take it from keypair_wire::codes or the table): {found:?}"
    );
}
