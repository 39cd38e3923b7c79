#!/usr/bin/env python3
"""Splink, the reference open-source record-linkage tool, on the same adult records Centinela links.

make bench (bench/run) exports the roster records of the simulated country it loaded (facility
code, staff reference, name as written, role, date of birth, state, keyed hash of the national
identifier) and the ground truth, and runs this script in a virtual environment with Splink's
DuckDB backend. It prints one JSON object: Splink's pairwise precision, recall, F1 and B-cubed F1
at its usual 0.9 threshold and at its best threshold (by B-cubed F1, with pairwise F1 beside), for
bench/run's table beside Centinela's own figures from `centinela evaluate --linking`.

The configuration is what a competent user would write (issue 19, item 6): names folded (case,
accents) and split Mexican-style (given names, then paternal and maternal surnames); blocking on
surname + date of birth, on given name + surname sound (either surname), and on the national
identifier's hash; the given name by Jaro–Winkler with term-frequency adjustments; the surnames
as Mexican records write them (both, swapped, the paternal alone with its term frequency,
misspelt, one in the other place); date of birth (exact, one character off, different), role, state and
identifier; the prior from the identifier's deterministic rule, u by random sampling, m by
expectation maximisation over two blocking passes (date of birth + state, then given name + paternal
surname), so that every comparison's m is estimated in a pass that does not block on it. The scores follow LinkingQuality's definitions
(Sources/CentinelaCore/Simulation/LinkingQuality.swift): pairs of roster records in one person;
B-cubed over records in a multi-record person in the truth or the prediction.

Usage: splink_compare.py RECORDS.csv TRUTH.json
"""
import csv
import itertools
import json
import sys
import unicodedata

import pandas as pd
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

PARTICLES = {"de", "del", "la", "las", "los", "y", "da", "van", "von", "san"}
TITLES = {"profr", "profra", "prof", "mtro", "mtra", "lic", "dr", "dra", "ing", "sr", "sra", "srta"}


def fold(text):
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if c.isalpha() or c.isspace())


def split_name(full):
    """Given names, paternal and maternal surname: the last two words are the surnames (particles
    kept with the word after them); "Surnames, Given" with a comma is read surnames first."""
    if "," in full:
        surnames, given = full.split(",", 1)
        words_given = [w for w in fold(given).split() if w not in TITLES]
        words_surnames = join_particles(fold(surnames).split())
        return (" ".join(words_given) or None, words_surnames[0] if words_surnames else None,
                words_surnames[1] if len(words_surnames) > 1 else None)
    words = join_particles([w for w in fold(full).split() if w not in TITLES])
    if len(words) == 1:
        return words[0], None, None
    if len(words) == 2:
        return words[0], words[1], None
    return " ".join(words[:-2]), words[-2], words[-1]


def join_particles(words):
    out, pending = [], ""
    for word in words:
        if word in PARTICLES:
            pending += word
        else:
            out.append(pending + word)
            pending = ""
    if pending:
        out.append(pending)
    return out


def sound(word):
    """A Spanish sound key (b/v, s/z/c before e/i, ll/y, silent h, doubled letters)."""
    if not word:
        return None
    w = word.replace("ll", "y").replace("qu", "k").replace("ch", "x")
    out = []
    for i, c in enumerate(w):
        nxt = w[i + 1] if i + 1 < len(w) else ""
        if c == "h":
            continue
        if c == "v":
            c = "b"
        elif c == "z":
            c = "s"
        elif c == "c":
            c = "s" if nxt in ("e", "i") else "k"
        elif c == "g" and nxt in ("e", "i"):
            c = "j"
        elif c == "j":
            c = "j"
        elif c == "y" and (not nxt or nxt not in "aeiou"):
            c = "i"
        if out and out[-1] == c:
            continue
        out.append(c)
    return "".join(out)


def load(records_path):
    rows = []
    with open(records_path, newline="") as handle:
        for uid, (facility, staff_ref, full_name, role, dob, state, nid) in enumerate(csv.reader(handle)):
            given, paternal, maternal = split_name(full_name)
            first = given.split()[0] if given else None
            rows.append({
                "uid": uid, "facility": facility, "staff_ref": staff_ref,
                "first_name": first, "surname_1": paternal, "surname_2": maternal,
                "surname_1_sound": sound(paternal), "surname_2_sound": sound(maternal),
                "dob": dob or None, "role": role or None, "state": state or None, "nid": nid or None,
            })
    return pd.DataFrame(rows)


def score(groups, truth, key_of):
    """Pairwise precision, recall, F1 and B-cubed F1, as LinkingQuality counts them."""
    true_persons = [[(r["facility"], r["staffRef"]) for r in p["records"]] for p in truth["samePerson"]]

    def pairs(persons):
        out = set()
        for person in persons:
            for a, b in itertools.combinations(sorted(person), 2):
                out.add((a, b))
        return out

    found = [[key_of[uid] for uid in group] for group in groups if len(group) > 1]
    expected, predicted = pairs(true_persons), pairs(found)
    correct = len(expected & predicted)
    precision = correct / len(predicted) if predicted else 1.0
    recall = correct / len(expected) if expected else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    true_of = {r: i for i, p in enumerate(true_persons) if len(p) > 1 for r in p}
    found_of = {r: i for i, p in enumerate(found) for r in p}
    true_members, found_members = {}, {}
    for r, i in true_of.items():
        true_members.setdefault(i, set()).add(r)
    for r, i in found_of.items():
        found_members.setdefault(i, set()).add(r)
    considered = set(true_of) | set(found_of)
    p_sum = r_sum = 0.0
    for record in considered:
        mine = found_members[found_of[record]] if record in found_of else {record}
        real = true_members[true_of[record]] if record in true_of else {record}
        shared = len(mine & real)
        p_sum += shared / len(mine)
        r_sum += shared / len(real)
    n = max(len(considered), 1)
    bp, br = p_sum / n, r_sum / n
    b3 = 2 * bp * br / (bp + br) if bp + br else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3), "bCubedF1": round(b3, 3),
            "foundPairs": len(predicted), "truePairs": len(expected)}


def main():
    records_path, truth_path = sys.argv[1], sys.argv[2]
    truth = json.load(open(truth_path))
    frame = load(records_path)
    key_of = {row.uid: (row.facility, row.staff_ref) for row in frame.itertuples()}
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="uid",
        blocking_rules_to_generate_predictions=[
            block_on("surname_1", "dob"),
            block_on("surname_2", "dob"),
            block_on("first_name", "surname_1_sound"),
            block_on("first_name", "surname_2_sound"),
            block_on("dob", "first_name"),
            block_on("nid"),
        ],
        comparisons=[
            cl.JaroWinklerAtThresholds("first_name", [0.92, 0.8]).configure(term_frequency_adjustments=True),
            # Mexican surnames: both, swapped, the paternal one alone (the maternal left out, with its
            # frequency), misspelt, one of them in the other place.
            cl.CustomComparison(
                output_column_name="surnames",
                comparison_levels=[
                    cll.NullLevel("surname_1"),
                    cll.And(cll.ExactMatchLevel("surname_1"), cll.ExactMatchLevel("surname_2")),
                    cll.ColumnsReversedLevel("surname_1", "surname_2"),
                    cll.ExactMatchLevel("surname_1").configure(tf_adjustment_column="surname_1"),
                    cll.And(cll.JaroWinklerLevel("surname_1", 0.92), cll.JaroWinklerLevel("surname_2", 0.92)),
                    cll.JaroWinklerLevel("surname_1", 0.92),
                    cll.CustomLevel(
                        "surname_1_l = surname_2_r OR surname_2_l = surname_1_r", label_for_charts="one surname in the other place"),
                    cll.ElseLevel(),
                ],
            ),
            cl.LevenshteinAtThresholds("dob", [1]),
            cl.ExactMatch("role"),
            cl.ExactMatch("state"),
            cl.ExactMatch("nid"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(frame, settings, db_api=DuckDBAPI())
    linker.training.estimate_probability_two_random_records_match([block_on("nid")], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=1)
    # Each comparison's m is estimated in a pass that does not block on it.
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob", "state"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("first_name", "surname_1"))
    predictions = linker.inference.predict(threshold_match_probability=0.05)
    results = {}
    for threshold in [0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999]:
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, threshold).as_pandas_dataframe()
        groups = clusters.groupby("cluster_id")["uid"].apply(list).tolist()
        results[threshold] = score(groups, truth, key_of)
    best = max(results, key=lambda t: (results[t]["bCubedF1"], results[t]["f1"]))
    print(json.dumps({"records": len(frame), "at09": results[0.9], "best": dict(results[best], threshold=best),
                      "thresholds": {str(k): v for k, v in results.items()}}))


if __name__ == "__main__":
    main()
