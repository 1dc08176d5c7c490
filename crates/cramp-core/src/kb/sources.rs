//! The sources every rule cites, keyed as in clinical-reference.md.
//!
//! Titles and URLs are copied from the reference; where it gives neither a PMID nor a URL the
//! `url` stays empty rather than being guessed.

use crate::output::Citation;

macro_rules! sources {
    ($($name:ident = ($key:literal, $title:literal, $source:literal, $url:literal);)+) => {
        $(
            #[doc = concat!("[", $key, "] ", $title)]
            pub const $name: Citation = Citation { key: $key, title: $title, source: $source, url: $url };
        )+
        /// Every source, in the reference's order.
        pub const ALL: &[Citation] = &[$($name),+];
    };
}

sources! {
    S1 = ("S1", "Leg cramps as warning signs (seed article A)", "Consumer health article; shared/seeds/000_b147972cdbe5890f.txt", "");
    S2 = ("S2", "Leg muscle cramps (seed article B)", "Wellness and Pain clinic article; shared/seeds/001_ce5a0dfaf4df6d79.txt", "");
    S3 = ("S3", "Gerhard-Herman MD et al. 2016 AHA/ACC Guideline on the Management of Patients With Lower Extremity Peripheral Artery Disease", "Circulation 2017;135:e726-e779", "https://pubmed.ncbi.nlm.nih.gov/27840333/");
    S4 = ("S4", "Gornik HL et al. 2024 ACC/AHA/multisociety Guideline for the Management of Lower Extremity Peripheral Artery Disease", "Circulation/JACC 2024 (Tables 5-6)", "");
    S5 = ("S5", "Leng GC, Fowkes FGR. The Edinburgh Claudication Questionnaire", "J Clin Epidemiol 1992;45:1101-1109", "");
    S6 = ("S6", "Boylan L et al. Edinburgh Claudication Questionnaire vs duplex ultrasound in general practice", "Angiology 2021;72(5):474-479", "");
    S7 = ("S7", "Nadeau M et al. Symptom attributes distinguishing neurogenic from vascular claudication", "Can J Surg 2013", "");
    S8 = ("S8", "American Diabetes Association Standards of Care, Section 12; Pop-Busui R et al. ADA Position Statement on Diabetic Neuropathy 2017", "Diabetes Care 2023;46(Suppl 1):S203; 2024;47(Suppl 1):S231", "");
    S9 = ("S9", "Michigan Neuropathy Screening Instrument: Feldman EL et al. 1994; Herman WH et al. 2012", "Diabetes Care 1994; Diabet Med 2012;29:937-944", "");
    S10 = ("S10", "KDIGO 2024 Clinical Practice Guideline for the Evaluation and Management of Chronic Kidney Disease", "Kidney Int 2024;105(4S):S117-S314", "https://pubmed.ncbi.nlm.nih.gov/38490803/");
    S11 = ("S11", "Holley JL. Muscle cramps in dialysis patients", "UpToDate; Ulu & Ahsen, Eur J Gen Med 2015;12:277-281", "");
    S12 = ("S12", "Garrison SR et al. Nocturnal leg cramps and prescription use that precedes them: a sequence symmetry analysis", "Arch Intern Med 2012;172(2):120-126", "https://pubmed.ncbi.nlm.nih.gov/22157068/");
    S13 = ("S13", "Allen RE, Kirby KA. Nocturnal leg cramps", "Am Fam Physician 2012;86(4):350-355", "https://pubmed.ncbi.nlm.nih.gov/22963024/");
    S14 = ("S14", "Katzberg HD et al. Assessment: symptomatic treatment for muscle cramps (an evidence-based review)", "Neurology 2010;74:691-696", "https://pubmed.ncbi.nlm.nih.gov/20177124/");
    S15 = ("S15", "Garrison SR et al. Magnesium for skeletal muscle cramps", "Cochrane Database Syst Rev 2020; CD009402.pub3", "");
    S16 = ("S16", "Luo L et al. Interventions for leg cramps in pregnancy", "Cochrane Database Syst Rev 2020; CD010655.pub3", "");
    S17 = ("S17", "ACC/AHA cholesterol guidelines, statin safety sections (2013 and 2018)", "ACC/AHA 2013; 2018", "");
    S18 = ("S18", "Stroes ES et al. EAS Consensus Panel Statement on statin-associated muscle symptoms", "Eur Heart J 2015;36:1012-1022", "");
    S19 = ("S19", "Rhabdomyolysis: diagnosis (Miller ML, UpToDate 2018); Kruger D", "UpToDate 2018; JAAPA 2017;30(1):20-26", "");
    S20 = ("S20", "Wells PS et al. Value of assessment of pretest probability of deep-vein thrombosis (Wells DVT score); two-level 2003 version", "Lancet 1997;350:1795; N Engl J Med 2003", "");
    S21 = ("S21", "Wells PS et al. Wells score for pulmonary embolism", "Thromb Haemost 2000;83:416; Ann Intern Med 2001;135:98", "");
    S22 = ("S22", "Acute limb ischemia and the 6 Ps", "Tintinalli's Emergency Medicine; RCEM Learning", "");
    S23 = ("S23", "Cauda equina syndrome red and white flags", "Secondary summaries of UK pathway literature", "");
    S24 = ("S24", "Compartment syndrome, acute and chronic exertional", "Emergency-medicine texts (Tintinalli)", "");
    S25 = ("S25", "FDA Drug Safety Communication: proton pump inhibitors and low magnesium levels", "US Food and Drug Administration, 2 March 2011", "");
    S26 = ("S26", "Miller KC et al. Exercise-associated muscle cramps: a review", "J Athl Train 2022;57(1):5-15", "");
    S27 = ("S27", "Jervis W et al. Hypothyroid proximal myopathy", "BMJ Case Rep 2019", "https://pmc.ncbi.nlm.nih.gov/articles/PMC6663251/");
    S28 = ("S28", "Hypocalcemia, in Harrison's Principles of Internal Medicine 19e", "McGraw-Hill", "");
    S29 = ("S29", "Hallegraeff J et al. Criteria for diagnosing nocturnal leg cramps; ICSD-3 sleep-related leg cramps", "BMC Fam Pract 2017;18:29", "");
    S30 = ("S30", "Coppin RJ et al. Managing nocturnal leg cramps: calf-stretching exercises and cessation of quinine treatment (RCT)", "Br J Gen Pract 2005", "https://pmc.ncbi.nlm.nih.gov/articles/PMC1463088/");
    S31 = ("S31", "US Preventive Services Task Force. Screening for PAD and CVD risk assessment with the ankle-brachial index", "USPSTF 2018 (I statement)", "");
    S32 = ("S32", "Clinical Inquiry: what is the best diagnostic approach to leg cramps?", "J Fam Pract", "");
    S33 = ("S33", "ADA 2025 statement on metformin and vitamin B12, as tabulated in Alvarez M et al.", "World J Diabetes 2025;16(7):107514", "");
    S35 = ("S35", "NICE NG42. Motor neurone disease: assessment and management (2016, updated 2019), section 1.1 recognition and referral", "National Institute for Health and Care Excellence", "https://www.ncbi.nlm.nih.gov/books/NBK349620/");
    S36 = ("S36", "NICE NG148. Acute kidney injury: prevention, detection and management (2019), section 1.1.1", "National Institute for Health and Care Excellence", "https://www.nice.org.uk/guidance/ng148");
    S37 = ("S37", "FDA Drug Safety Communication, 8 Jun 2011: new restrictions, contraindications and dose limitations for Zocor (simvastatin)", "US Food and Drug Administration", "https://www.fda.gov/drugs/drug-safety-and-availability/fda-drug-safety-communication-new-restrictions-contraindications-and-dose-limitations-zocor-simvastatin");
    L1 = ("L1", "StatPearls: Hypokalemia", "StatPearls 2023-25", "https://www.ncbi.nlm.nih.gov/books/NBK482465/");
    L2 = ("L2", "Simon LV et al. StatPearls: Hyperkalemia", "StatPearls 2025", "https://pubmed.ncbi.nlm.nih.gov/29261936/");
    L4 = ("L4", "Spasovski G et al. Clinical practice guideline on diagnosis and treatment of hyponatraemia", "Eur J Endocrinol 2014;170:G1", "https://doi.org/10.1093/ndt/gfu040");
    L5 = ("L5", "StatPearls: Hyponatremia; Hypernatremia", "StatPearls 2025", "https://pubmed.ncbi.nlm.nih.gov/28722989/");
    L7 = ("L7", "StatPearls: Hypomagnesemia", "StatPearls", "https://www.statpearls.com/point-of-care/23271");
    L9 = ("L9", "Quick Medical Diagnosis & Treatment: Hypomagnesemia", "AccessMedicine (CMDT)", "https://accessmedicine.mhmedical.com/content.aspx?bookid=2986&sectionid=251096478");
    L11 = ("L11", "Merck Manual Professional: Hypercalcemia; Hypophosphatemia", "Merck Manuals 2023", "https://www.merckmanuals.com/professional/endocrine-and-metabolic-disorders/electrolyte-disorders/hypercalcemia");
    L12 = ("L12", "Turner J et al. Society for Endocrinology emergency guidance: acute hypocalcaemia", "Endocr Connect 2016;5:G7", "https://ec.bioscientifica.com/view/journals/ec/5/5/G7.xml");
    L13 = ("L13", "Payne RB et al. albumin-adjusted calcium; Lian IA, Asberg A. limits of the formula", "BMJ 1973;4:643; BMJ Open 2018", "https://pmc.ncbi.nlm.nih.gov/articles/PMC5892769");
    L14 = ("L14", "StatPearls: Hypophosphatemia", "StatPearls 2024", "https://statpearls.com/point-of-care/23281");
    L15 = ("L15", "KDIGO 2024 CKD guideline; KDIGO 2012 referral criteria", "Kidney Int Suppl 2013;3:112", "https://doi.org/10.1038/kisup.2012.68");
    L16 = ("L16", "ADA Standards of Care 2025, Section 2: Diagnosis and Classification of Diabetes", "Diabetes Care 2025;48(S1):S27", "https://doi.org/10.2337/dc25-S002");
    L17 = ("L17", "Filosto M et al. Normal serum creatine kinase values: a worldwide systematic review", "2025", "https://iris.unibs.it/handle/11379/631011");
    L18 = ("L18", "Surks MI et al. Subclinical thyroid disease: scientific review and guidelines", "JAMA 2004;291:228", "https://jamanetwork.com/journals/jama/fullarticle/197994");
    L19 = ("L19", "IOM. Dietary Reference Intakes for Calcium and Vitamin D", "National Academies Press 2011", "https://doi.org/10.17226/13050");
    L21 = ("L21", "Demay MB et al. Vitamin D for the prevention of disease: an Endocrine Society guideline", "J Clin Endocrinol Metab 2024;109:1907", "https://doi.org/10.1210/clinem/dgae290");
    L22 = ("L22", "Patel H, McGuirk R. Vitamin B12 deficiency", "Am Fam Physician 2025;112:294", "");
    L23 = ("L23", "Langan RC, Goodbred AJ. Vitamin B12 deficiency: recognition and management", "Am Fam Physician 2017;96:384", "https://www.aafp.org/pubs/afp/issues/2017/0915/p384.html");
}
