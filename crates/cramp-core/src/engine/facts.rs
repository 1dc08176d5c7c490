//! Facts derived once per history, shared by every rule.
//!
//! Keeping derivations here (risk groups, Wells scores, recognised medications) means two rules
//! that need the same fact cannot disagree about it, and each is computed once.

use std::borrow::Cow;

use crate::engine::Detail;
use crate::input::{Context, CrampHistory, Diabetes, Laterality, Smoking, Swelling};
use crate::meds::{self, Recognised};
use crate::output::{DrugClass, Evidence, MedicationFinding};

/// `medications[i].name` for the first entries of a list, so the usual evidence paths are
/// borrowed instead of formatted per assessment.
const MEDICATION_NAME_FIELDS: [&str; 8] = [
    "medications[0].name",
    "medications[1].name",
    "medications[2].name",
    "medications[3].name",
    "medications[4].name",
    "medications[5].name",
    "medications[6].name",
    "medications[7].name",
];

/// `medications[i].weeks_since_started` for the first entries, as [`MEDICATION_NAME_FIELDS`].
const MEDICATION_WEEKS_FIELDS: [&str; 8] = [
    "medications[0].weeks_since_started",
    "medications[1].weeks_since_started",
    "medications[2].weeks_since_started",
    "medications[3].weeks_since_started",
    "medications[4].weeks_since_started",
    "medications[5].weeks_since_started",
    "medications[6].weeks_since_started",
    "medications[7].weeks_since_started",
];

/// The evidence path of the name of medication `index`.
pub(crate) fn medication_name_field(index: usize) -> Cow<'static, str> {
    MEDICATION_NAME_FIELDS.get(index).map_or_else(
        || Cow::Owned(format!("medications[{index}].name")),
        |f| Cow::Borrowed(*f),
    )
}

/// The evidence path of the start of medication `index`.
pub(crate) fn medication_weeks_field(index: usize) -> Cow<'static, str> {
    MEDICATION_WEEKS_FIELDS.get(index).map_or_else(
        || Cow::Owned(format!("medications[{index}].weeks_since_started")),
        |f| Cow::Borrowed(*f),
    )
}

/// Evidence that a boolean answer was `true`.
pub(crate) fn ev(field: &'static str) -> Evidence {
    Evidence {
        field: field.into(),
        value: Cow::Borrowed("true"),
    }
}

/// An evidence value: an enum name or fixed text is borrowed, a number is formatted.
pub(crate) trait EvidenceValue {
    fn into_value(self) -> Cow<'static, str>;
}

impl EvidenceValue for &'static str {
    fn into_value(self) -> Cow<'static, str> {
        Cow::Borrowed(self)
    }
}

macro_rules! formatted_evidence_values {
    ($($t:ty),+) => {$(
        impl EvidenceValue for $t {
            fn into_value(self) -> Cow<'static, str> {
                Cow::Owned(self.to_string())
            }
        }
    )+};
}

formatted_evidence_values!(u32, f64);

/// Evidence with an explicit value (enum name or number).
pub(crate) fn ev_val(field: &'static str, value: impl EvidenceValue) -> Evidence {
    Evidence {
        field: field.into(),
        value: value.into_value(),
    }
}

/// Evidence for every answer in `items` that is `true`.
pub(crate) fn trues(items: &[(&'static str, Option<bool>)]) -> Vec<Evidence> {
    items
        .iter()
        .filter(|(_, v)| *v == Some(true))
        .map(|(f, _)| ev(f))
        .collect()
}

/// `Some(true)`: the answer was given and was yes. Absent answers are unknown, never "no".
pub(crate) const fn yes(v: Option<bool>) -> bool {
    matches!(v, Some(true))
}

/// A clinical score with the items that contributed to it.
#[derive(Debug, Default)]
pub(crate) struct Score {
    pub(crate) points: f64,
    pub(crate) items: Vec<Evidence>,
}

impl Score {
    fn add(&mut self, points: f64, field: &'static str, given: bool) {
        if given {
            self.points += points;
            self.items.push(ev(field));
        }
    }
}

/// How a rule reads an answer that was not given (clinical-reference.md g.1).
///
/// A red-flag rule is written once and judged under both readings: what the answers establish,
/// and what they cannot exclude. Rules ask the [`Facts`] (`f.yes`, `f.is`, `f.at_least`...) so
/// that the reading, not the rule author, decides what an unknown means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reading {
    /// Unknown reads as "no": what the answers establish.
    Established,
    /// Unknown reads as "yes" (every unknown enum as any value, every unknown number as any
    /// number): what the answers cannot exclude.
    CannotExclude,
}

/// Everything the rules read, derived from one validated history.
pub(crate) struct Facts<'a> {
    pub(crate) h: &'a CrampHistory,
    meds: Cow<'a, [Recognised]>,
    detail: Detail,
    reading: Reading,
}

impl std::fmt::Debug for Facts<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Facts").finish_non_exhaustive()
    }
}

impl<'a> Facts<'a> {
    pub(crate) fn new(h: &'a CrampHistory, detail: Detail) -> Self {
        Self {
            h,
            meds: Cow::Owned(meds::recognise(&h.medications)),
            detail,
            reading: Reading::Established,
        }
    }

    /// The same facts under another reading of unknown answers; the medications are shared.
    pub(crate) fn reading_as(&self, reading: Reading) -> Facts<'_> {
        Facts {
            h: self.h,
            meds: Cow::Borrowed(&self.meds),
            detail: self.detail,
            reading,
        }
    }

    /// Whether this is the "cannot exclude" reading.
    pub(crate) fn cannot_exclude(&self) -> bool {
        self.reading == Reading::CannotExclude
    }

    /// A yes/no answer under this reading: yes is yes, no is no, unknown is the reading's.
    pub(crate) fn yes(&self, v: Option<bool>) -> bool {
        v.unwrap_or(self.cannot_exclude())
    }

    /// An enum answer equals `want`; unknown counts only under the "cannot exclude" reading.
    pub(crate) fn is<T: PartialEq>(&self, v: Option<T>, want: T) -> bool {
        v.map_or(self.cannot_exclude(), |x| x == want)
    }

    /// An enum answer is one of `want`; unknown counts only under the "cannot exclude" reading.
    pub(crate) fn one_of<T: PartialEq>(&self, v: Option<T>, want: &[T]) -> bool {
        v.map_or(self.cannot_exclude(), |x| want.contains(&x))
    }

    /// A number is at least `t`; an unknown number could be, under the "cannot exclude" reading.
    pub(crate) fn at_least<T: PartialOrd>(&self, v: Option<T>, t: T) -> bool {
        v.map_or(self.cannot_exclude(), |x| x >= t)
    }

    /// A number is above `t`; an unknown number could be, under the "cannot exclude" reading.
    pub(crate) fn above<T: PartialOrd>(&self, v: Option<T>, t: T) -> bool {
        v.map_or(self.cannot_exclude(), |x| x > t)
    }

    /// A number is at most `t`; an unknown number could be, under the "cannot exclude" reading.
    pub(crate) fn at_most<T: PartialOrd>(&self, v: Option<T>, t: T) -> bool {
        v.map_or(self.cannot_exclude(), |x| x <= t)
    }

    /// Whether rationales are wanted ([`Detail::Full`]); rules skip formatting text otherwise.
    pub(crate) fn prose(&self) -> bool {
        self.detail == Detail::Full
    }

    pub(crate) fn age(&self) -> u32 {
        self.h.patient.age_years.unwrap_or(0)
    }

    pub(crate) fn has_context(&self, c: Context) -> bool {
        self.h.cramps.contexts.contains(&c)
    }

    /// Cramps during or just after exercise or walking.
    pub(crate) fn exertional(&self) -> bool {
        self.has_context(Context::Walking) || self.has_context(Context::Exercise)
    }

    /// Cramps at night or at rest.
    pub(crate) fn nocturnal_or_rest(&self) -> bool {
        self.has_context(Context::Night) || self.has_context(Context::Rest)
    }

    pub(crate) fn unilateral(&self) -> bool {
        matches!(
            self.h.cramps.laterality,
            Some(Laterality::Left | Laterality::Right)
        )
    }

    pub(crate) fn diabetic(&self) -> bool {
        matches!(
            self.h.conditions.diabetes,
            Some(Diabetes::Type1 | Diabetes::Type2)
        )
    }

    pub(crate) fn on_dialysis(&self) -> bool {
        yes(self.h.conditions.on_dialysis) || self.has_context(Context::DuringDialysis)
    }

    /// Known kidney disease of any stage (dialysis implies it, intake.md).
    pub(crate) fn known_ckd(&self) -> bool {
        yes(self.h.conditions.chronic_kidney_disease)
            || self.h.conditions.ckd_stage.is_some()
            || self.on_dialysis()
    }

    /// Medications recognised as cramp culprits (or safety notes), in the output's order.
    pub(crate) fn medication_findings(&self) -> Vec<MedicationFinding> {
        meds::findings(&self.meds, self.detail)
    }

    /// Recognised medications that are currently taken (not recently stopped).
    pub(crate) fn current_meds(&self) -> impl Iterator<Item = &Recognised> {
        self.meds.iter()
    }

    pub(crate) fn takes(&self, class: DrugClass) -> bool {
        self.meds.iter().any(|m| m.class == class)
    }

    /// Metformin is not a cramp culprit but long-term use lowers B12 (S33), which matters for
    /// neuropathy work-up.
    pub(crate) fn takes_metformin(&self) -> bool {
        self.h
            .medications
            .iter()
            .any(|m| m.recently_stopped != Some(true) && meds::mentions(&m.name, "metformin"))
    }

    /// Current medicines that NICE NG148 [S36] names as raising the risk of acute kidney injury in
    /// acute illness: diuretics, ACE inhibitors, ARBs and NSAIDs. Each is (list index, the group
    /// in words). Diuretics come from the recognised classes; the others from the ingredients the
    /// lexicon identifies (ingredient-to-group membership: docs/clinical-decisions.md).
    pub(crate) fn aki_risk_medicines(&self) -> Vec<(usize, &'static str)> {
        const GROUPS: &[(&str, &str)] = &[
            ("lisinopril", "an ACE inhibitor"),
            ("enalapril", "an ACE inhibitor"),
            ("ramipril", "an ACE inhibitor"),
            ("benazepril", "an ACE inhibitor"),
            ("captopril", "an ACE inhibitor"),
            ("perindopril", "an ACE inhibitor"),
            ("quinapril", "an ACE inhibitor"),
            ("losartan", "an ARB"),
            ("valsartan", "an ARB"),
            ("irbesartan", "an ARB"),
            ("olmesartan", "an ARB"),
            ("telmisartan", "an ARB"),
            ("candesartan", "an ARB"),
            ("azilsartan", "an ARB"),
            ("ibuprofen", "an NSAID"),
            ("naproxen", "an NSAID"),
            ("celecoxib", "an NSAID"),
        ];
        let lex = meds::MedicationLexicon::standard();
        let mut out: Vec<(usize, &'static str)> = Vec::new();
        for m in self.meds.iter() {
            if matches!(
                m.class,
                DrugClass::ThiazideDiuretic
                    | DrugClass::LoopDiuretic
                    | DrugClass::PotassiumSparingDiuretic
            ) && !out.contains(&(m.index, "a diuretic"))
            {
                out.push((m.index, "a diuretic"));
            }
        }
        for (index, m) in self.h.medications.iter().enumerate() {
            if m.recently_stopped == Some(true) {
                continue;
            }
            for hit in lex.identify(&m.name) {
                if let Some((_, group)) = GROUPS.iter().find(|(name, _)| *name == hit.ingredient)
                    && !out.contains(&(index, *group))
                {
                    out.push((index, group));
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// Atherosclerosis risk factors of clinical-reference.md b.1 (2016 Table 2, 2024 Table 5).
    pub(crate) fn atherosclerosis_risk_factors(&self) -> Vec<Evidence> {
        let c = &self.h.conditions;
        let mut out = Vec::new();
        if self.diabetic() {
            out.push(ev_val(
                "conditions.diabetes",
                c.diabetes.map_or("", |d| d.name()),
            ));
        }
        if let Some(s @ (Smoking::Current | Smoking::Former)) = c.smoking {
            out.push(ev_val("conditions.smoking", s.name()));
        }
        out.extend(trues(&[
            ("conditions.high_cholesterol", c.high_cholesterol),
            ("conditions.hypertension", c.hypertension),
            (
                "conditions.chronic_kidney_disease",
                c.chronic_kidney_disease,
            ),
            ("conditions.on_dialysis", c.on_dialysis),
            ("conditions.family_history_of_pad", c.family_history_of_pad),
        ]));
        if let Some(stage) = c.ckd_stage {
            out.push(ev_val("conditions.ckd_stage", stage.name()));
        }
        out
    }

    /// The b.1 "increased risk of PAD" groups; `Some(evidence)` when the patient is in one.
    pub(crate) fn pad_risk_group(&self) -> Option<Vec<Evidence>> {
        let age = self.age();
        let c = &self.h.conditions;
        if yes(c.coronary_or_cerebrovascular_disease) {
            return Some(vec![ev("conditions.coronary_or_cerebrovascular_disease")]);
        }
        // The coronary group needs neither the age nor the risk factors, so it is decided first.
        let age_ev = ev_val("patient.age_years", age);
        if age >= 65 {
            return Some(vec![age_ev]);
        }
        let rf = self.atherosclerosis_risk_factors();
        if (50..65).contains(&age) && !rf.is_empty() {
            let mut e = vec![age_ev];
            e.extend(rf);
            return Some(e);
        }
        // Under 50: diabetes plus at least one more atherosclerosis risk factor.
        if age < 50 && self.diabetic() && rf.len() >= 2 {
            let mut e = vec![age_ev];
            e.extend(rf);
            return Some(e);
        }
        None
    }

    /// Constant pain, the "calf pain" of g.3 that makes a tender calf a Wells item: a cramp comes
    /// and goes, so a cramp alone is not it.
    pub(crate) fn constant_pain(&self) -> bool {
        let c = &self.h.cramps;
        self.yes(c.persistent_pain) || self.yes(c.pain_out_of_proportion)
    }

    /// Wells DVT score (S20, 2003 two-level version), from the items the answers establish (g.3)
    /// under this reading. The "-2 if an alternative diagnosis is at least as likely" item is never
    /// applied: the service cannot judge it, and leaving it out can only keep the score higher
    /// (missing data never lowers urgency). The tenderness item is deep-vein tenderness on
    /// examination, or a tender calf with constant pain (g.3), counted once.
    pub(crate) fn wells_dvt(&self) -> Score {
        let c = &self.h.conditions;
        let s = &self.h.symptoms;
        let f = &self.h.findings;
        let mut sc = Score::default();
        sc.add(1.0, "conditions.active_cancer", self.yes(c.active_cancer));
        let paresis = self.yes(c.leg_paralysis_or_paresis);
        sc.add(1.0, "conditions.leg_paralysis_or_paresis", paresis);
        sc.add(
            1.0,
            "conditions.leg_cast_or_recent_leg_fracture",
            !paresis && self.yes(c.leg_cast_or_recent_leg_fracture),
        );
        let bedridden = self.yes(c.bedridden_3_days_or_more);
        sc.add(1.0, "conditions.bedridden_3_days_or_more", bedridden);
        sc.add(
            1.0,
            "conditions.recent_surgery",
            !bedridden && self.yes(c.recent_surgery),
        );
        let deep = self.yes(f.deep_vein_tenderness);
        sc.add(1.0, "findings.deep_vein_tenderness", deep);
        sc.add(
            1.0,
            "symptoms.calf_tenderness",
            !deep && self.yes(s.calf_tenderness) && self.constant_pain(),
        );
        if self.is(s.leg_swelling, Swelling::OneLeg) {
            sc.points += 1.0;
            sc.items
                .push(ev_val("symptoms.leg_swelling", Swelling::OneLeg.name()));
        }
        if self.above(f.calf_circumference_difference_cm, 3.0) {
            sc.points += 1.0;
            if let Some(d) = f.calf_circumference_difference_cm {
                sc.items
                    .push(ev_val("findings.calf_circumference_difference_cm", d));
            }
        }
        sc.add(
            1.0,
            "findings.pitting_edema_symptomatic_leg",
            self.yes(f.pitting_edema_symptomatic_leg),
        );
        sc.add(
            1.0,
            "findings.collateral_superficial_veins",
            self.yes(f.collateral_superficial_veins),
        );
        sc.add(
            1.0,
            "conditions.prior_dvt_or_pe",
            self.yes(c.prior_dvt_or_pe),
        );
        sc
    }

    /// Clinical signs of a DVT in one leg: the Wells examination items plus seed A's redness,
    /// warmth or tenderness with constant pain. Empty when there are none.
    pub(crate) fn dvt_signs(&self) -> Vec<Evidence> {
        let s = &self.h.symptoms;
        let fi = &self.h.findings;
        let c = &self.h.cramps;
        let mut e = Vec::new();
        if self.is(s.leg_swelling, Swelling::OneLeg) {
            e.push(ev_val("symptoms.leg_swelling", Swelling::OneLeg.name()));
        }
        for (field, v) in [
            ("findings.deep_vein_tenderness", fi.deep_vein_tenderness),
            (
                "findings.pitting_edema_symptomatic_leg",
                fi.pitting_edema_symptomatic_leg,
            ),
        ] {
            if self.yes(v) {
                e.push(ev(field));
            }
        }
        if self.above(fi.calf_circumference_difference_cm, 3.0) {
            // Under the "cannot exclude" reading an unknown measure counts; its evidence says so.
            e.push(match fi.calf_circumference_difference_cm {
                Some(d) => ev_val("findings.calf_circumference_difference_cm", d),
                None => ev_val("findings.calf_circumference_difference_cm", "unknown"),
            });
        }
        let local = [
            ("symptoms.calf_tenderness", s.calf_tenderness),
            ("symptoms.calf_redness", s.calf_redness),
            ("symptoms.calf_warmth", s.calf_warmth),
        ];
        let constant = [
            ("cramps.persistent_pain", c.persistent_pain),
            ("cramps.pain_out_of_proportion", c.pain_out_of_proportion),
        ];
        if local.iter().any(|(_, v)| self.yes(*v)) && constant.iter().any(|(_, v)| self.yes(*v)) {
            e.extend(trues(&local));
            e.extend(trues(&constant));
        }
        e
    }

    /// Wells PE score (S21) without "PE at least as likely as alternatives" (not askable here);
    /// "clinical signs of DVT" are [`Facts::dvt_signs`].
    pub(crate) fn wells_pe(&self) -> Score {
        let c = &self.h.conditions;
        let mut sc = Score::default();
        let dvt = self.dvt_signs();
        if !dvt.is_empty() {
            sc.points += 3.0;
            sc.items.extend(dvt);
        }
        if let Some(hr) = self.h.findings.heart_rate_bpm
            && hr > 100
        {
            sc.points += 1.5;
            sc.items.push(ev_val("findings.heart_rate_bpm", hr));
        }
        let bedridden = self.yes(c.bedridden_3_days_or_more);
        sc.add(1.5, "conditions.bedridden_3_days_or_more", bedridden);
        sc.add(
            1.5,
            "conditions.recent_surgery",
            !bedridden && self.yes(c.recent_surgery),
        );
        sc.add(
            1.5,
            "conditions.prior_dvt_or_pe",
            self.yes(c.prior_dvt_or_pe),
        );
        sc.add(
            1.0,
            "symptoms.coughing_blood",
            self.yes(self.h.symptoms.coughing_blood),
        );
        sc.add(1.0, "conditions.active_cancer", self.yes(c.active_cancer));
        sc
    }
}
