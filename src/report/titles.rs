//! What a clinician reads for each code: the knowledge base's rule titles for flags, and the
//! same displays the EHR doors show for urgencies, workups and drug classes (g.8: never the
//! contract's enum names). Nothing here is written anew: it reads what the doors already use.

use cramp_core::{DrugClass, Flag, KnowledgeBase, Urgency, Workup};

use crate::fhir::{
    bundle::{urgency_display, workup_display},
    link_ids,
    questionnaire::display,
};

/// The title of the rule that raises `flag` (one rule per flag; the knowledge base's self-check
/// covers every flag).
#[must_use]
pub fn flag(flag: Flag) -> String {
    KnowledgeBase::standard()
        .rules()
        .find(|rule| rule.flag == flag)
        .map_or_else(
            || display(flag.name().trim_start_matches("FLAG_")),
            |rule| rule.title.to_owned(),
        )
}

/// "Emergency", "Self care".
#[must_use]
pub fn urgency(urgency: Urgency) -> String {
    urgency_display(urgency)
}

/// "Ankle brachial index".
#[must_use]
pub fn workup(workup: Workup) -> String {
    workup_display(workup)
}

/// "Thiazide diuretic", as the medication card names a class.
#[must_use]
pub fn drug_class(class: DrugClass) -> String {
    display(class.name().trim_start_matches("DRUG_CLASS_"))
}

/// The question that would settle an unknown answer: the assessment's own question when the
/// output carries it (full view), else the intake Questionnaire's item text (the basic view
/// leaves texts out), as the FHIR RiskAssessment words it.
#[must_use]
pub fn question(field: &str, asked: Option<&str>) -> String {
    asked
        .filter(|q| !q.is_empty())
        .map(str::to_owned)
        .or_else(|| link_ids::item(field).map(|item| item.text.to_owned()))
        .unwrap_or_else(|| display(field.rsplit('.').next().unwrap_or(field)))
}

/// "Unparseable record" for the `ErrorInfo` reason `UNPARSEABLE_RECORD`.
#[must_use]
pub fn error_reason(reason: &str) -> String {
    display(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_words_not_enum_names() {
        for f in Flag::ALL {
            let title = flag(*f);
            assert!(!title.contains("FLAG_") && !title.is_empty(), "{title}");
        }
        assert_eq!(flag(Flag::DvtSuspected), "Possible deep vein thrombosis");
        assert_eq!(urgency(Urgency::Emergency), "Emergency");
        assert_eq!(workup(Workup::AnkleBrachialIndex), "Ankle brachial index");
        assert_eq!(drug_class(DrugClass::ThiazideDiuretic), "Thiazide diuretic");
        assert_eq!(error_reason("UNPARSEABLE_RECORD"), "Unparseable record");
    }

    #[test]
    fn a_question_falls_back_to_the_questionnaire() {
        assert_eq!(question("x.y", Some("Asked?")), "Asked?");
        let item = link_ids::items().next().unwrap();
        assert_eq!(question(item.link_id, Some("")), item.text);
    }
}
