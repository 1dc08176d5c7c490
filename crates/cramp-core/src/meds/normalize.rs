//! From a medication line as typed ("Toprol-XL 50mg PO qAM", "HCTZ 12.5 mg", "Advair Diskus
//! 250/50 1 puff bid") to the words that can name a drug.
//!
//! Names are split into lower-case letter-only words, so numbers, units written onto numbers
//! ("25mg") and punctuation fall away; then words that never name a drug (units, frequencies,
//! routes, dose forms, inhaler devices, release suffixes, salts) are dropped, so that they can
//! neither break a multi-word name apart nor be mistaken for a misspelt drug.

/// Words that never name a drug on a medication line. Lexicon terms are normalised with the same
/// list, and a test proves no lexicon term needs one of these words.
const NOISE: &[&str] = &[
    // Units and amounts.
    "mg",
    "mcg",
    "ug",
    "g",
    "gm",
    "gram",
    "grams",
    "ml",
    "l",
    "iu",
    "unit",
    "units",
    "meq",
    "mmol",
    "percent",
    "dose",
    "doses",
    "puff",
    "puffs",
    "spray",
    "sprays",
    "drop",
    "drops",
    // Frequencies, timing and instructions.
    "qd",
    "od",
    "bid",
    "bd",
    "tid",
    "tds",
    "qid",
    "qds",
    "qam",
    "qpm",
    "qhs",
    "hs",
    "qod",
    "prn",
    "stat",
    "once",
    "twice",
    "three",
    "four",
    "times",
    "daily",
    "day",
    "days",
    "a",
    "at",
    "in",
    "the",
    "every",
    "each",
    "per",
    "night",
    "nightly",
    "morning",
    "evening",
    "bedtime",
    "noon",
    "week",
    "weekly",
    "month",
    "monthly",
    "hour",
    "hours",
    "hrs",
    "h",
    "with",
    "without",
    "food",
    "meals",
    "meal",
    "before",
    "after",
    "as",
    "needed",
    "directed",
    "take",
    "takes",
    "taking",
    "use",
    "uses",
    "using",
    "for",
    "to",
    "of",
    "and",
    "or",
    "plus",
    "w",
    "x",
    "by",
    "on",
    "off",
    "only",
    "then",
    "when",
    "if",
    "up",
    "half",
    "one",
    "two",
    // Routes and forms.
    "po",
    "oral",
    "orally",
    "mouth",
    "sl",
    "sublingual",
    "iv",
    "im",
    "sc",
    "subcut",
    "injection",
    "inj",
    "infusion",
    "inhaled",
    "inhale",
    "inhalation",
    "inhalations",
    "inhaler",
    "inhalers",
    "actuation",
    "actuations",
    "nebulizer",
    "nebuliser",
    "nebulised",
    "nebulized",
    "neb",
    "nebs",
    "tab",
    "tabs",
    "tablet",
    "tablets",
    "cap",
    "caps",
    "capsule",
    "capsules",
    "caplet",
    "caplets",
    "pill",
    "pills",
    "liquid",
    "solution",
    "suspension",
    "syrup",
    "elixir",
    "powder",
    "aerosol",
    "mist",
    "vial",
    "vials",
    "chewable",
    "dispersible",
    "orodispersible",
    "effervescent",
    "film",
    "coated",
    "enteric",
    "gastro",
    "resistant",
    "delayed",
    "extended",
    "modified",
    "sustained",
    "controlled",
    "release",
    "released",
    "tablet",
    "patch",
    "kit",
    "pack",
    "starter",
    // Inhaler devices (the brand carries the drug; "Spiriva Respimat" is Spiriva).
    "respimat",
    "handihaler",
    "diskus",
    "ellipta",
    "accuhaler",
    "evohaler",
    "turbohaler",
    "turbuhaler",
    "hfa",
    "mdi",
    "dpi",
    "breezhaler",
    "neohaler",
    "genuair",
    "pressair",
    "aerosphere",
    "spiromax",
    "easyhaler",
    "nexthaler",
    "aerolizer",
    "modulite",
    "respiclick",
    "inhub",
    "redihaler",
    "digihaler",
    // Release and strength suffixes, market status.
    "xr",
    "er",
    "sr",
    "cr",
    "la",
    "xl",
    "dr",
    "ec",
    "ds",
    "mr",
    "ir",
    "cd",
    "xt",
    "hd",
    "ls",
    "forte",
    "mite",
    "otc",
    "rx",
    "generic",
    "brand",
    "prescription",
    "low",
    "high",
    "strength",
    "regular",
    "maximum",
    "extra",
    "mini",
    "junior",
    // Salts and hydrates.
    "hcl",
    "hydrochloride",
    "succinate",
    "tartrate",
    "sodium",
    "potassium",
    "magnesium",
    "calcium",
    "sulfate",
    "sulphate",
    "besylate",
    "besilate",
    "maleate",
    "fumarate",
    "dihydrate",
    "trihydrate",
    "monohydrate",
    "hydrate",
    "xinafoate",
    "trifenatate",
    "bromide",
    "mesylate",
    "citrate",
    "acetate",
    "propionate",
    "furoate",
    "dipropionate",
    "medoxomil",
    "kamedoxomil",
    "hydrobromide",
    "phosphate",
    "chloride",
    "salt",
    "anhydrous",
];

/// Topical forms: a strong CYP3A4 inhibitor used on the skin or scalp does not reach the blood
/// levels that interact with a statin.
const TOPICAL: &[&str] = &[
    "cream", "shampoo", "gel", "foam", "ointment", "topical", "lotion", "scalp", "skin",
];

/// Whether `word` (lower case) is a noise word.
pub(crate) fn is_noise(word: &str) -> bool {
    NOISE.contains(&word)
}

/// Lower-case letter-only words of `text`, noise words dropped.
pub(crate) fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| !is_noise(w))
        .collect()
}

/// Whether the line names a topical form.
pub(crate) fn is_topical(text: &str) -> bool {
    text.split(|c: char| !c.is_alphabetic())
        .any(|w| TOPICAL.iter().any(|t| t.eq_ignore_ascii_case(w)))
}

/// The words the noise list holds, for property tests.
#[cfg(test)]
pub(crate) const fn noise_words() -> &'static [&'static str] {
    NOISE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doses_frequencies_routes_and_salts_fall_away() {
        assert_eq!(words("HCTZ 12.5 mg"), ["hctz"]);
        assert_eq!(words("Toprol-XL 50mg PO qAM"), ["toprol"]);
        assert_eq!(words("Advair Diskus 250/50 1 puff BID"), ["advair"]);
        assert_eq!(words("metoprolol succinate ER 25 mg"), ["metoprolol"]);
        assert_eq!(
            words("Spiriva Respimat 2.5 mcg, 2 inhalations daily"),
            ["spiriva"]
        );
        assert_eq!(words("Co-amilozide 5/50"), ["co", "amilozide"]);
        assert_eq!(words("Prilosec OTC 20mg at night"), ["prilosec"]);
        assert_eq!(words("160/4.5"), Vec::<String>::new());
    }

    #[test]
    fn topical_forms_are_seen() {
        assert!(is_topical("Nizoral shampoo 2%"));
        assert!(is_topical("ketoconazole 2% CREAM"));
        assert!(!is_topical("ketoconazole 200 mg tablet"));
    }
}
