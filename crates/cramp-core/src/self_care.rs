//! Self-care advice chosen for the patient, worded as clinical-reference.md (a) allows.
//!
//! The seed articles' self-care is kept where it is low-risk, but its evidence is stated honestly
//! (stretching and magnesium are not presented as proven) and the anatomically wrong stretch is
//! corrected. Advice that could harm a particular patient is withheld from that patient: fluid
//! and potassium-rich-diet advice from people with advanced kidney disease or on dialysis, heat
//! pads from people with numb feet, leg elevation from people with an arterial pattern. An
//! emergency gets one instruction only.

use crate::engine::Facts;
use crate::input::CkdStage;
use crate::output::{Flag, RiskFlag, SelfCareAdvice, Urgency};

const fn advice(code: &'static str, text: &'static str, evidence: &'static str) -> SelfCareAdvice {
    SelfCareAdvice {
        code,
        text,
        evidence,
    }
}

const EMERGENCY: SelfCareAdvice = advice(
    "SELF_CARE_SEEK_EMERGENCY_CARE",
    "Call emergency services or go to the nearest emergency department now. Do not wait to see whether it passes, and do not drive yourself.",
    "red-flag pattern; emergency evaluation is the standard of care [S1, S4, S20-S24]",
);
const SAME_DAY: SelfCareAdvice = advice(
    "SELF_CARE_SEEK_SAME_DAY_CARE",
    "Arrange to be seen by a clinician today. If symptoms get worse, or chest pain, breathlessness, new weakness or a cold, pale leg appear, call emergency services.",
    "red-flag pattern needing same-day evaluation [S4, S20, S22]",
);
const WATCH_FOR: SelfCareAdvice = advice(
    "SELF_CARE_WARNING_SIGNS",
    "Seek emergency care for: severe, persistent pain unlike a usual cramp with redness, warmth or swelling of one leg; chest pain, breathlessness or coughing blood; sudden weakness, numbness or difficulty walking; a cold, pale or blue foot; cola-coloured urine after exertion; numbness between the legs or new bladder or bowel problems. Book a visit if cramps are frequent or severe, disturb sleep or daily life, or come with numbness, swelling, skin changes or weakness.",
    "warning and emergency signs from the seed articles, graded by the guidelines [S1, S2, S4, S20, S22, S23]",
);
const HYDRATION: SelfCareAdvice = advice(
    "SELF_CARE_HYDRATION",
    "Drink fluids through the day, more in hot weather and before and during exercise; pale-yellow urine is a practical guide. For long sessions in the heat, an electrolyte drink is reasonable.",
    "low-risk, limited evidence that hydration prevents cramps [S1, S2, S26]",
);
const KIDNEY_FLUIDS: SelfCareAdvice = advice(
    "SELF_CARE_KIDNEY_TEAM_FLUIDS",
    "Follow your kidney team's advice on fluids, salt and potassium rather than general advice to drink more or eat potassium-rich foods, and tell them about the cramps.",
    "dialysis and advanced kidney disease need individual fluid and potassium limits [S10, S11]",
);
const STRETCH: SelfCareAdvice = advice(
    "SELF_CARE_STRETCH_DURING_CRAMP",
    "During a cramp, straighten the knee and pull the toes and foot up toward the shin, then massage the muscle. Gentle calf and hamstring stretches before bed and around exercise are low-risk.",
    "low-risk; evidence is limited and one trial found calf stretching did not prevent night cramps [S13, S14, S30]",
);
const WARMTH: SelfCareAdvice = advice(
    "SELF_CARE_WARMTH",
    "Warmth before bed (a warm bath or towel) and ice after exercise may ease tight, sore muscles.",
    "low-risk, limited evidence [S1, S2]",
);
const MOVEMENT: SelfCareAdvice = advice(
    "SELF_CARE_MOVEMENT_BREAKS",
    "When sitting or standing for long, move or change position every hour; build up exercise gradually and warm up and cool down.",
    "low-risk, limited evidence [S1, S2, S26]",
);
const FOOTWEAR: SelfCareAdvice = advice(
    "SELF_CARE_FOOTWEAR_CLOTHING",
    "Wear supportive, well-fitting shoes and avoid high heels, worn-out footwear and tight clothing around the legs or waist.",
    "low-risk, limited evidence [S1, S2]",
);
const ELEVATION: SelfCareAdvice = advice(
    "SELF_CARE_LEG_ELEVATION",
    "Resting with the legs raised can ease tired, swollen legs; stop if raising the legs makes them hurt or turn pale.",
    "low-risk, limited evidence [S1]; not advised when the arteries may be narrowed [S4]",
);
const SLEEP_POSITION: SelfCareAdvice = advice(
    "SELF_CARE_SLEEP_POSITION",
    "In bed, keep the feet from pointing down: a pillow under the knees and loose bedding help keep the feet slightly flexed.",
    "low-risk, limited evidence [S2]",
);
const DIET: SelfCareAdvice = advice(
    "SELF_CARE_BALANCED_DIET",
    "A varied diet with foods rich in potassium (bananas, avocado, spinach, beans), magnesium (nuts, seeds, leafy greens), calcium (dairy, sardines, fortified plant milk) and vitamin D (oily fish, egg yolk, brief sun), plus B vitamins, supports normal muscle function.",
    "low-risk; no trial shows diet prevents cramps; vitamin B complex is only possibly effective (AAN Level C) [S1, S2, S14]",
);
const NO_SUPPLEMENT_PROMISES: SelfCareAdvice = advice(
    "SELF_CARE_MAGNESIUM_NOT_PROVEN",
    "Magnesium supplements are unlikely to prevent cramps in older adults, so do not rely on them; ask before starting any supplement.",
    "Cochrane 2020: no meaningful benefit in older non-pregnant adults, moderate certainty [S15]",
);
const NO_QUININE: SelfCareAdvice = advice(
    "SELF_CARE_AVOID_QUININE",
    "Do not take quinine for cramps: it can cause serious blood, heart and allergic reactions.",
    "AAN: effective but toxic, avoid routine use; FDA warning; AFP: no longer recommended [S13, S14]",
);
const DIARY: SelfCareAdvice = advice(
    "SELF_CARE_SYMPTOM_DIARY",
    "Keep a short diary of when cramps happen, how long and how strong they are, and what came before; bring it and your medicine list to your visit.",
    "low-risk; helps the clinician separate cramps from other causes [S1, S13]",
);
const MEDICINES: SelfCareAdvice = advice(
    "SELF_CARE_DO_NOT_STOP_MEDICINES",
    "Do not stop or change a prescribed medicine on your own; ask your prescriber whether one of your medicines could be contributing.",
    "clinician-led medication review [S1, S2, S12]",
);
const PREGNANCY: SelfCareAdvice = advice(
    "SELF_CARE_PREGNANCY",
    "Leg cramps are common in pregnancy. Gentle calf stretches, staying active, fluids and a warm bath before bed are low-risk; supplements (magnesium, calcium, vitamins) have inconsistent evidence, so ask your midwife or doctor first. Seek care the same day for one swollen, painful, red or warm leg, and emergency care for chest pain or breathlessness.",
    "Cochrane 2020: inconsistent, low-certainty evidence for supplements in pregnancy [S16]",
);
const ALCOHOL: SelfCareAdvice = advice(
    "SELF_CARE_CUT_DOWN_ALCOHOL",
    "Cutting down on alcohol helps: heavy drinking lowers magnesium and potassium, dehydrates and can damage the nerves in the legs; ask your clinician about support. Heavy drinking also uses up thiamine (vitamin B1), so ask whether a thiamine supplement is right for you.",
    "alcohol is a named cause of low magnesium and of neuropathy [S8, S32; reference b.5 and the Mg row of (a)]; the thiamine note is second-edition guidance (g.8)",
);
const DIABETIC_FEET: SelfCareAdvice = advice(
    "SELF_CARE_DIABETIC_FOOT_CARE",
    "Check both feet every day for cuts, blisters, colour change or swelling; wear moisture-wicking socks and well-fitted shoes; have your feet examined at least once a year, and avoid hot-water bottles or heat pads on numb feet.",
    "ADA Standards of Care: foot examination and self-care education [S1, S8]",
);
const SMOKING: SelfCareAdvice = advice(
    "SELF_CARE_STOP_SMOKING",
    "Stopping smoking protects the leg arteries; ask your clinician about support to quit.",
    "smoking is a major risk factor for peripheral artery disease [S3, S4]",
);
const EXERCISE_CRAMP: SelfCareAdvice = advice(
    "SELF_CARE_EXERCISE_CRAMP",
    "For a cramp during exercise, stop and stretch the muscle gently and hold until it eases, then return gradually. Seek medical review if cramps force you to stop repeatedly or come with feeling unwell, confusion or dark urine.",
    "exercise-associated cramps are multifactorial; gentle static stretching is the usual treatment [S26]",
);

/// Chooses the advice for this patient and disposition, in a fixed order.
pub(crate) fn choose(f: &Facts<'_>, urgency: Urgency, flags: &[RiskFlag]) -> Vec<SelfCareAdvice> {
    match urgency {
        Urgency::Emergency => return vec![EMERGENCY],
        Urgency::Urgent => return vec![SAME_DAY, WATCH_FOR, MEDICINES],
        Urgency::Soon | Urgency::Routine | Urgency::SelfCare => {}
    }
    let has = |flag: Flag| flags.iter().any(|r| r.flag == flag);
    let kidney_limits = f.on_dialysis()
        || matches!(f.h.conditions.ckd_stage, Some(CkdStage::G4 | CkdStage::G5))
        || f.h
            .findings
            .labs
            .egfr_ml_min_1_73m2
            .is_some_and(|e| e < 30.0);
    let numb_feet = has(Flag::PeripheralNeuropathy);
    let arterial =
        has(Flag::PadPattern) || has(Flag::PadRiskProfile) || has(Flag::CriticalLimbIschemia);

    // Room for every item below, so the list is allocated once.
    let mut out = Vec::with_capacity(18);
    // (g.8) Pregnancy gets the pregnancy evidence [S16], never the older-adult magnesium text.
    let pregnant = has(Flag::PregnancyAssociated) || f.h.patient.pregnant == Some(true);
    if pregnant {
        out.push(PREGNANCY);
    }
    if has(Flag::ExerciseAssociatedCramps) {
        out.push(EXERCISE_CRAMP);
    }
    out.push(STRETCH);
    if kidney_limits {
        out.push(KIDNEY_FLUIDS);
    } else {
        out.push(HYDRATION);
    }
    if !numb_feet {
        out.push(WARMTH);
    }
    if f.diabetic() || numb_feet {
        out.push(DIABETIC_FEET);
    }
    out.push(MOVEMENT);
    out.push(FOOTWEAR);
    if has(Flag::PosturalOrSedentaryTriggers) && !arterial {
        out.push(ELEVATION);
    }
    if f.nocturnal_or_rest() {
        out.push(SLEEP_POSITION);
    }
    if !kidney_limits {
        out.push(DIET);
    }
    if matches!(f.h.conditions.smoking, Some(crate::input::Smoking::Current)) {
        out.push(SMOKING);
    }
    if f.h.conditions.heavy_alcohol_use == Some(true) {
        out.push(ALCOHOL);
    }
    if f.current_meds().next().is_some() {
        out.push(MEDICINES);
    }
    if !pregnant {
        out.push(NO_SUPPLEMENT_PROMISES);
    }
    out.push(NO_QUININE);
    out.push(DIARY);
    out.push(WATCH_FOR);
    out
}

#[cfg(test)]
mod tests {
    use crate::input::{CrampHistory, Sex, validate};
    use crate::{KnowledgeBase, evaluate};

    use super::*;

    fn pregnant(pregnant: Option<bool>) -> crate::Assessment {
        let mut h = CrampHistory::default();
        h.patient.age_years = Some(31);
        h.patient.sex = Some(Sex::Female);
        h.patient.pregnant = pregnant;
        let valid = validate(h, Vec::new()).unwrap();
        evaluate(&KnowledgeBase::standard(), &valid)
    }

    /// Pregnancy is a ROUTINE pattern (outputs.md), never a reason to drop below the no-finding
    /// default, yet the pregnant patient still gets the pregnancy advice.
    #[test]
    fn a_pregnant_patient_gets_the_pregnancy_advice_at_a_routine_disposition() {
        let yes = pregnant(Some(true));
        assert_eq!(yes.urgency, Urgency::Routine);
        assert!(yes.self_care.iter().any(|a| a.code == PREGNANCY.code));
        for other in [None, Some(false)] {
            let not = pregnant(other);
            assert_eq!(not.urgency, Urgency::Routine);
            assert!(not.self_care.iter().all(|a| a.code != PREGNANCY.code));
        }
    }

    /// g.8: the older-adult magnesium text is not the pregnant patient's evidence (S15 vs S16).
    #[test]
    fn a_pregnant_patient_does_not_get_the_older_adult_magnesium_text() {
        let yes = pregnant(Some(true));
        assert!(
            yes.self_care
                .iter()
                .all(|a| a.code != NO_SUPPLEMENT_PROMISES.code)
        );
        let not = pregnant(Some(false));
        assert!(
            not.self_care
                .iter()
                .any(|a| a.code == NO_SUPPLEMENT_PROMISES.code)
        );
    }

    /// g.8: heavy alcohol use gets advice to cut down and a thiamine note; unknown gets none.
    #[test]
    fn heavy_alcohol_use_gets_the_alcohol_advice() {
        for (answer, expected) in [(Some(true), true), (Some(false), false), (None, false)] {
            let mut h = CrampHistory::default();
            h.patient.age_years = Some(50);
            h.conditions.heavy_alcohol_use = answer;
            let a = evaluate(
                &KnowledgeBase::standard(),
                &validate(h, Vec::new()).unwrap(),
            );
            assert_eq!(
                a.self_care.iter().any(|x| x.code == ALCOHOL.code),
                expected,
                "{answer:?}"
            );
        }
    }
}
