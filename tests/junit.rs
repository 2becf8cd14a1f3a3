//! JUnit XML: one test case per (rule, resource), failures for findings, load errors as
//! errors; checked against the structure of the JUnit schema CI systems read (the
//! Ant/Jenkins `junit-10.xsd`: testsuites > testsuite > testcase > failure|error|skipped)
//! and pinned by a snapshot.
#![allow(clippy::panic)] // a test fails by panicking

mod common;

use common::*;

/// Checks the document against the schema's structure: element names and nesting, the
/// required attributes, and counts that agree with the cases. Returns the cases as
/// (classname, name, child element or "").
fn check_schema(xml: &str) -> Vec<(String, String, String)> {
    let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("not XML: {e}\n{xml}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let number = |n: roxmltree::Node<'_, '_>, a: &str| -> usize {
        n.attribute(a)
            .unwrap_or_else(|| panic!("<{}> lacks {a}", n.tag_name().name()))
            .parse()
            .unwrap_or_else(|e| panic!("{a}: {e}"))
    };
    let mut cases = Vec::new();
    let (mut tests, mut failures, mut errors) = (0, 0, 0);
    for suite in root.children().filter(roxmltree::Node::is_element) {
        assert_eq!(suite.tag_name().name(), "testsuite");
        assert!(suite.attribute("name").is_some_and(|n| !n.is_empty()));
        let mut counted = (0, 0, 0);
        for case in suite.children().filter(roxmltree::Node::is_element) {
            match case.tag_name().name() {
                "properties" | "system-out" | "system-err" => continue,
                "testcase" => {}
                other => panic!("unexpected <{other}> in <testsuite>"),
            }
            let name = case
                .attribute("name")
                .unwrap_or_else(|| panic!("testcase without name"));
            let class = case
                .attribute("classname")
                .unwrap_or_else(|| panic!("testcase without classname"));
            counted.0 += 1;
            let mut outcome = String::new();
            for child in case.children().filter(roxmltree::Node::is_element) {
                let tag = child.tag_name().name();
                assert!(
                    ["failure", "error", "skipped", "system-out", "system-err"].contains(&tag),
                    "unexpected <{tag}> in <testcase>"
                );
                if tag == "failure" || tag == "error" {
                    assert!(child.attribute("message").is_some(), "<{tag}> without message");
                    assert!(child.attribute("type").is_some(), "<{tag}> without type");
                    assert!(outcome.is_empty(), "two outcomes in one case");
                    outcome = tag.to_string();
                    if tag == "failure" {
                        counted.1 += 1;
                    } else {
                        counted.2 += 1;
                    }
                }
            }
            cases.push((class.to_string(), name.to_string(), outcome));
        }
        assert_eq!(number(suite, "tests"), counted.0);
        assert_eq!(number(suite, "failures"), counted.1);
        assert_eq!(number(suite, "errors"), counted.2);
        tests += counted.0;
        failures += counted.1;
        errors += counted.2;
    }
    assert_eq!(number(root, "tests"), tests);
    assert_eq!(number(root, "failures"), failures);
    assert_eq!(number(root, "errors"), errors);
    cases
}

#[test]
fn junit_has_a_case_per_rule_and_resource_and_is_pinned() {
    let r = run(&["check", "--format", "junit", "testdata/demo/terraform"]);
    assert_eq!(r.code, 1);
    let cases = check_schema(&r.stdout);
    let failures: Vec<_> = cases.iter().filter(|c| c.2 == "failure").collect();
    assert!(!failures.is_empty());
    // One case per (rule, resource): no pair twice.
    let mut pairs: Vec<(&str, &str)> = cases.iter().map(|c| (c.0.as_str(), c.1.as_str())).collect();
    let n = pairs.len();
    pairs.sort();
    pairs.dedup();
    assert_eq!(pairs.len(), n);
    // Rules without findings pass.
    assert!(cases.iter().any(|c| c.1 == "no findings" && c.2.is_empty()));
    assert!(
        cases
            .iter()
            .any(|c| c.0 == "kdsguard.KDS005" && c.1 == "testdata/demo/terraform#aws_iam_service_linked_role.kds")
    );
    insta::assert_snapshot!("demo_terraform_junit", r.stdout);
}

#[test]
fn load_errors_are_junit_errors() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("broken.tf"), "resource \"aws_iam_role\" {\n").unwrap_or_else(|e| panic!("{e}"));
    let r = run(&["check", "--format", "junit", &dir.path().to_string_lossy()]);
    assert_eq!(r.code, 2);
    let cases = check_schema(&r.stdout);
    let errors: Vec<_> = cases.iter().filter(|c| c.2 == "error").collect();
    assert_eq!(errors.len(), 1, "{cases:#?}");
    assert_eq!(errors[0].0, "kdsguard.load");
    assert!(errors[0].1.ends_with("broken.tf"));
}

/// The `file` attribute of each failing case, by case name.
fn failing_files(xml: &str) -> Vec<(String, String)> {
    let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("not XML: {e}"));
    doc.descendants()
        .filter(|n| n.has_tag_name("testcase") && n.children().any(|c| c.has_tag_name("failure")))
        .map(|n| {
            (
                n.attribute("name").unwrap_or_default().to_string(),
                n.attribute("file").unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn each_input_has_its_own_cases() {
    // The demo's Terraform module and CloudFormation template both declare a table Music
    // and the service-linked role: each has findings about the other's.
    let r = run(&["check", "--format", "junit", "testdata/demo"]);
    assert_eq!(r.code, 1);
    check_schema(&r.stdout);
    let cases = failing_files(&r.stdout);
    let tf = "testdata/demo/terraform";
    let cfn = "testdata/demo/cloudformation/template.yaml";
    let mut crossed = 0;
    for (name, file) in &cases {
        // The case's file is in the input the case names: the subject's own, else the one
        // after "found in".
        let input = match name.split_once(" (found in ") {
            Some((_, input)) => {
                crossed += 1;
                input.trim_end_matches(')').to_string()
            }
            None => name.split('#').next().unwrap_or_default().to_string(),
        };
        assert!(input == tf || input == cfn, "{name}");
        assert!(file.starts_with(&input), "case {name} has its findings in {file}");
    }
    assert!(crossed > 0, "{cases:?}");
    // One SLR per account: its id is the first declaration's (the template's), so the
    // Terraform role's KDS004 about it is a case of the Terraform input, crossed.
    assert!(
        cases.iter().any(|(n, f)| n
            == "testdata/demo/cloudformation/template.yaml#KdsServiceLinkedRole (found in testdata/demo/terraform)"
            && f.starts_with(tf)),
        "{cases:?}"
    );
}
