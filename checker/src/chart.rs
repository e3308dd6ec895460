//! Message sequence charts of counterexamples and witnesses, as standalone SVG.
//!
//! One vertical lane per provisioner, time running down, one row per step: a mark on the
//! actor's lane (a filled circle when it receives, a square when it broadcasts, a ring for a
//! timer, a cross when it goes absent, a red square for a Byzantine broadcast, a diamond for
//! a fallback), arrows from the provisioners whose messages it acted on, the blocks that
//! became Final on that step in green, and the step in the spec's words on the right. The
//! last step of a counterexample, the violating one, is highlighted in red.

use crate::report::{ChartKind, Counterexample};

const LANE: f64 = 116.0;
const ROW: f64 = 30.0;
const TOP: f64 = 86.0;
const LEFT: f64 = 44.0;
const TEXT_WIDTH: f64 = 980.0;

/// Escapes text for SVG/XML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// What the chart's last row means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The last step violates the property (drawn in red).
    Violation,
    /// The last step reaches a witness (drawn in blue).
    Witness,
}

/// The chart of `cx` as a standalone SVG document. `title` heads it (e.g. the property and
/// its statement).
#[allow(
    clippy::too_many_lines,
    reason = "one SVG document: header, lanes, one arrow per step, legend, drawn in order"
)]
pub fn svg(title: &str, cx: &Counterexample, ending: Ending) -> String {
    let lanes = cx.initial_views.len().max(1);
    let lanes_width = LEFT + LANE * lanes as f64;
    let width = lanes_width + TEXT_WIDTH;
    let height = TOP + ROW * (cx.steps.len() as f64 + 1.0) + 40.0;
    let x = |p: usize| LEFT + LANE * (p as f64 + 0.5);
    let y = |k: usize| TOP + ROW * k as f64;
    let (accent, accent_fill) = match ending {
        Ending::Violation => ("#c62828", "#fdecea"),
        Ending::Witness => ("#1565c0", "#e8f0fe"),
    };
    let mut o = String::new();
    o.push_str(&format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"sa-chart\" width=\"{width:.0}\" \
         height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" \
         font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
    ));
    o.push_str(&format!(
        "<title>{}</title>\n<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" \
         markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">\
         <path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#555\"/></marker></defs>\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
        escape(title)
    ));
    o.push_str(&format!(
        "<text x=\"8\" y=\"20\" font-size=\"14\" font-weight=\"bold\">{}</text>\n",
        escape(&clip(title, 150))
    ));
    // The violating (or witnessing) row.
    if let Some(last) = cx.steps.last() {
        let yy = y(last.index);
        o.push_str(&format!(
            "<rect class=\"sa-ending\" x=\"2\" y=\"{:.0}\" width=\"{:.0}\" height=\"{ROW:.0}\" \
             fill=\"{accent_fill}\" stroke=\"{accent}\"/>\n",
            yy - ROW / 2.0,
            width - 4.0
        ));
    }
    // Lanes: absent stretches dashed, Byzantine lanes red.
    let mut absent_from = vec![None; lanes];
    for (p, v) in cx.initial_views.iter().enumerate() {
        if !v.alive {
            absent_from[p] = Some(0);
        }
    }
    for s in &cx.steps {
        for (p, v) in s.views.iter().enumerate() {
            if !v.alive && absent_from[p].is_none() {
                absent_from[p] = Some(s.index);
            }
        }
    }
    let bottom = y(cx.steps.len()) + ROW / 2.0;
    for (p, v) in cx.initial_views.iter().enumerate() {
        let colour = if v.byzantine { "#c62828" } else { "#333" };
        let mark = if v.byzantine { " (Byzantine)" } else { "" };
        o.push_str(&format!(
            "<text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"middle\" font-weight=\"bold\" \
             fill=\"{colour}\">{}</text>\n<text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"middle\" \
             font-size=\"10\" fill=\"{colour}\">{}</text>\n",
            x(p),
            TOP - 38.0,
            escape(&v.name),
            x(p),
            TOP - 24.0,
            escape(mark.trim())
        ));
        let split = absent_from[p].map_or(bottom, &y);
        o.push_str(&format!(
            "<line x1=\"{0:.0}\" y1=\"{1:.0}\" x2=\"{0:.0}\" y2=\"{2:.0}\" stroke=\"{colour}\" \
             stroke-width=\"1.5\"/>\n",
            x(p),
            TOP - 14.0,
            split
        ));
        if split < bottom {
            o.push_str(&format!(
                "<line x1=\"{0:.0}\" y1=\"{1:.0}\" x2=\"{0:.0}\" y2=\"{2:.0}\" stroke=\"#aaa\" \
                 stroke-dasharray=\"4 4\"/>\n",
                x(p),
                split,
                bottom
            ));
        }
    }
    o.push_str(&format!(
        "<text x=\"{:.0}\" y=\"{:.0}\" font-weight=\"bold\">step</text>\n",
        lanes_width + 8.0,
        TOP - 24.0
    ));
    // Finals held before each step, to mark the blocks that become Final on it.
    let mut finals: Vec<Vec<String>> = cx.initial_views.iter().map(|v| v.finals.clone()).collect();
    for s in &cx.steps {
        let yy = y(s.index);
        let a = s.chart.actor;
        for &f in &s.chart.from {
            if f == a || f >= lanes {
                continue;
            }
            o.push_str(&format!(
                "<line class=\"sa-arrow\" x1=\"{:.0}\" y1=\"{:.0}\" x2=\"{:.0}\" y2=\"{:.0}\" \
                 stroke=\"#555\" stroke-width=\"1\" marker-end=\"url(#arrow)\"/>\n",
                x(f),
                yy - ROW * 0.7,
                x(a) + if f < a { -7.0 } else { 7.0 },
                yy
            ));
        }
        let (cx_, cy_) = (x(a), yy);
        let mark = match s.chart.kind {
            ChartKind::Receive => {
                format!("<circle cx=\"{cx_:.0}\" cy=\"{cy_:.0}\" r=\"6\" fill=\"#333\"/>")
            }
            // Blue: green is kept for "became Final" (the legend says so).
            ChartKind::Broadcast => format!(
                "<rect x=\"{:.0}\" y=\"{:.0}\" width=\"12\" height=\"12\" fill=\"#1565c0\"/>",
                cx_ - 6.0,
                cy_ - 6.0
            ),
            ChartKind::Byzantine => format!(
                "<rect x=\"{:.0}\" y=\"{:.0}\" width=\"12\" height=\"12\" fill=\"#c62828\"/>",
                cx_ - 6.0,
                cy_ - 6.0
            ),
            ChartKind::Timer => format!(
                "<circle cx=\"{cx_:.0}\" cy=\"{cy_:.0}\" r=\"6\" fill=\"white\" stroke=\"#333\" \
                 stroke-width=\"2\"/>"
            ),
            ChartKind::Crash => format!(
                "<path d=\"M {:.0} {:.0} l 12 12 m 0 -12 l -12 12\" stroke=\"#c62828\" \
                 stroke-width=\"3\"/>",
                cx_ - 6.0,
                cy_ - 6.0
            ),
            ChartKind::Fallback => format!(
                "<path d=\"M {cx_:.0} {:.0} l 7 7 l -7 7 l -7 -7 z\" fill=\"#ef6c00\"/>",
                cy_ - 7.0
            ),
        };
        o.push_str(&format!("<g class=\"sa-step\">{mark}</g>\n"));
        let mut label = s.chart.label.clone();
        let now = s.views.get(a).map(|v| v.finals.clone()).unwrap_or_default();
        let new: Vec<&String> = now
            .iter()
            .filter(|b| !finals.get(a).is_some_and(|f| f.contains(b)))
            .collect();
        // Labels go right of the mark, except on the last lane, where they would run into the
        // step text: there they end left of it.
        let (lx, anchor) = if a + 1 == lanes {
            (cx_ - 9.0, " text-anchor=\"end\"")
        } else {
            (cx_ + 9.0, "")
        };
        o.push_str(&format!(
            "<text x=\"{lx:.0}\" y=\"{:.0}\" font-size=\"10\" fill=\"#555\"{anchor}>{}</text>\n",
            cy_ - 5.0,
            escape(&clip(&label, 19))
        ));
        if !new.is_empty() {
            let text = format!(
                "{} Final",
                new.iter()
                    .map(|b| b.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            o.push_str(&format!(
                "<text class=\"sa-final\" x=\"{lx:.0}\" y=\"{:.0}\" font-size=\"10\" \
                 font-weight=\"bold\" fill=\"#2e7d32\"{anchor}>{}</text>\n",
                cy_ + 10.0,
                escape(&text)
            ));
            label.push_str(&format!("; {text}"));
        }
        for (p, v) in s.views.iter().enumerate() {
            if let Some(f) = finals.get_mut(p) {
                f.clone_from(&v.finals);
            }
        }
        let is_last = s.index == cx.steps.len();
        o.push_str(&format!(
            "<text x=\"{:.0}\" y=\"{:.0}\"{}><title>{}</title>{:>2}. {}</text>\n",
            lanes_width + 8.0,
            cy_ + 4.0,
            if is_last {
                format!(" fill=\"{accent}\" font-weight=\"bold\"")
            } else {
                String::new()
            },
            escape(&s.description),
            s.index,
            escape(&clip(&s.description, 130))
        ));
    }
    let legend =
        "● receives (arrows from the senders)   blue ■ broadcasts a candidate   ○ timer   \
                  ✕ goes absent   ◆ falls back   red ■ Byzantine   green text: became Final";
    o.push_str(&format!(
        "<text x=\"8\" y=\"{:.0}\" font-size=\"10\" fill=\"#555\">{}</text>\n",
        height - 12.0,
        escape(legend)
    ));
    o.push_str("</svg>\n");
    o
}
