//! The report's charts: horizontal bar charts drawn by plotters' SVG backend, each with a text
//! alternative (`<title>`, `<desc>` naming every bar, and the data table beside it).
//!
//! Bars are drawn one by one in the order given (plotters' `Histogram` collects them in a
//! `HashMap`, which would make the SVG, and so the report, differ from run to run).

use plotters::{
    prelude::*,
    style::text_anchor::{HPos, Pos, VPos},
};
use serde::Serialize;

use super::ReportError;

/// One bar: its label (a title), its count and colour.
#[derive(Clone, Debug)]
pub struct Bar {
    /// What is counted.
    pub label: String,
    /// How many records.
    pub count: u64,
    /// Fill colour.
    pub color: RGBColor,
}

/// A drawn chart and what it shows, for the template.
#[derive(Clone, Debug, Serialize)]
pub struct Chart {
    /// Element id prefix.
    pub id: &'static str,
    /// The heading.
    pub title: String,
    /// Every bar in words: the chart's text alternative.
    pub description: String,
    /// The SVG, or empty when there is nothing to count.
    pub svg: String,
    /// The data table: label and count per bar.
    pub rows: Vec<(String, u64)>,
}

/// The default bar colour (blue with white-background contrast above 4.5:1).
pub const BAR: RGBColor = RGBColor(0x1f, 0x5f, 0xa8);

/// Longest label drawn in full; longer ones end in "…" in the SVG (the data table and the
/// description keep them whole).
const LABEL_CHARS: usize = 46;

/// Draws `bars` top to bottom as a horizontal bar chart of counts.
///
/// # Errors
/// [`ReportError::Chart`] if plotters fails (a bug: the backend writes to a string).
pub fn bar_chart(id: &'static str, title: &str, bars: &[Bar]) -> Result<Chart, ReportError> {
    let rows: Vec<(String, u64)> = bars.iter().map(|b| (b.label.clone(), b.count)).collect();
    let description = if bars.is_empty() {
        format!("{title}: none.")
    } else {
        let parts: Vec<String> = bars
            .iter()
            .map(|b| format!("{} {}", b.label, b.count))
            .collect();
        format!("{title}: {}.", parts.join("; "))
    };
    let svg = if bars.is_empty() {
        String::new()
    } else {
        let drawn = draw(bars).map_err(|e| ReportError::Chart(format!("{id}: {e}")))?;
        accessible(&drawn, id, title, &description)
    };
    Ok(Chart {
        id,
        title: title.to_owned(),
        description,
        svg,
        rows,
    })
}

fn short(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        label.to_owned()
    } else {
        let cut: String = label.chars().take(LABEL_CHARS - 1).collect();
        format!("{}…", cut.trim_end())
    }
}

#[expect(
    clippy::cast_possible_truncation,
    reason = "bar counts and label lengths are small; the chart's size is bounded below"
)]
fn draw(bars: &[Bar]) -> Result<String, Box<dyn std::error::Error>> {
    let n = bars.len();
    let labels: Vec<String> = bars.iter().map(|b| short(&b.label)).collect();
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let label_area = (longest as u32) * 15 / 2 + 14;
    let width = 720u32;
    let height = 60 + 28 * n as u32;
    let max = bars.iter().map(|b| b.count).max().unwrap_or(0);
    // Room right of the longest bar for its count.
    let top = (max + max / 8).max(max + 1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .margin_right(24)
            .x_label_area_size(36)
            .y_label_area_size(label_area)
            .build_cartesian_2d(0u64..top, (0..n).into_segmented())?;
        let label_for = |value: &SegmentValue<usize>| match value {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => n
                .checked_sub(1 + *i)
                .and_then(|at| labels.get(at))
                .cloned()
                .unwrap_or_default(),
            SegmentValue::Last => String::new(),
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_formatter(&label_for)
            .x_labels(6)
            .max_light_lines(1)
            .x_desc("records")
            .label_style(("sans-serif", 16))
            .axis_desc_style(("sans-serif", 16))
            .draw()?;
        chart.draw_series(bars.iter().enumerate().map(|(i, bar)| {
            let y = n - 1 - i;
            let mut rect = Rectangle::new(
                [
                    (0, SegmentValue::Exact(y)),
                    (bar.count, SegmentValue::Exact(y + 1)),
                ],
                bar.color.filled(),
            );
            rect.set_margin(4, 4, 0, 0);
            rect
        }))?;
        let count_style = ("sans-serif", 15)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        chart.draw_series(bars.iter().enumerate().map(|(i, bar)| {
            EmptyElement::at((bar.count, SegmentValue::CenterOf(n - 1 - i)))
                + Text::new(bar.count.to_string(), (4, 0), count_style.clone())
        }))?;
        root.present()?;
    }
    Ok(svg)
}

/// The SVG as an image with a name and a description: `role="img"`, `<title>` and `<desc>`
/// right after the opening tag, so screen readers announce the chart's content.
fn accessible(svg: &str, id: &str, title: &str, description: &str) -> String {
    let Some(open_end) = svg.find('>') else {
        return svg.to_owned();
    };
    let (open, rest) = svg.split_at(open_end);
    let open = open.replacen(
        "<svg ",
        &format!(r#"<svg role="img" aria-labelledby="{id}-title {id}-desc" "#),
        1,
    );
    format!(
        r#"{open}><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>{}"#,
        xml_text(title),
        xml_text(description),
        rest.get(1..).unwrap_or_default()
    )
}

fn xml_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bars() -> Vec<Bar> {
        vec![
            Bar {
                label: "Emergency".into(),
                count: 3,
                color: BAR,
            },
            Bar {
                label: "A title far longer than the label area is meant to hold in one line".into(),
                count: 120,
                color: BAR,
            },
        ]
    }

    #[test]
    fn charts_are_svg_with_a_title_and_a_description_naming_every_bar() {
        let chart = bar_chart("urgency", "Records by urgency", &bars()).unwrap();
        assert!(
            chart.svg.starts_with("<svg role=\"img\""),
            "{}",
            &chart.svg[..80]
        );
        assert!(
            chart
                .svg
                .contains("<title id=\"urgency-title\">Records by urgency</title>")
        );
        assert!(chart.description.contains("Emergency 3"));
        assert!(chart.description.contains("in one line 120"));
        assert!(chart.svg.contains("\nEmergency\n"), "labels are drawn");
        assert!(
            chart.svg.contains('…'),
            "long labels are shortened in the drawing"
        );
        assert_eq!(chart.rows.len(), 2);
    }

    #[test]
    fn the_same_data_draws_the_same_bytes() {
        let a = bar_chart("x", "X", &bars()).unwrap();
        let b = bar_chart("x", "X", &bars()).unwrap();
        assert_eq!(a.svg, b.svg);
    }

    #[test]
    fn nothing_to_count_draws_nothing() {
        let chart = bar_chart("errors", "Errors", &[]).unwrap();
        assert!(chart.svg.is_empty());
        assert_eq!(chart.description, "Errors: none.");
    }
}
