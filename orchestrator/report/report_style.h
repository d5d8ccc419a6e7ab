// The report's inline stylesheet (system fonts only: nothing is fetched).
// Red (#c62828) means something went wrong: a violated check, an abort that
// fired, a revert not confirmed, a failed query. Abort thresholds and
// aborts that did not fire are orange and grey.
#pragma once

namespace chaos::orchestrator::report {

inline constexpr const char* kReportStyle = R"css(
body { font-family: system-ui, sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
header { background: #1d2330; color: #fff; padding: 12px 24px; }
header h1 { margin: 0; font-size: 1.4em; }
main { padding: 12px 24px; max-width: 1040px; }
section { background: #fff; border: 1px solid #dde1e7; border-radius: 6px; padding: 8px 16px; margin: 12px 0; }
h2 { font-size: 1.1em; margin: 6px 0; }
dl { display: grid; grid-template-columns: 110px 1fr; gap: 4px 12px; margin: 4px 0; }
dt { font-weight: 600; color: #556; } dd { margin: 0; }
code { font-family: ui-monospace, monospace; font-size: 0.9em; word-break: break-all; }
.verdict { border-width: 2px; }
.verdict-result { font-size: 1.8em; font-weight: 700; text-transform: uppercase; }
.verdict-held { background: #e7f6ea; border-color: #2e8b47; } .verdict-held .verdict-result { color: #2e8b47; }
.verdict-violated { background: #fdecea; border-color: #c62828; } .verdict-violated .verdict-result { color: #c62828; }
.verdict-aborted { background: #fff4e0; border-color: #e08600; } .verdict-aborted .verdict-result { color: #b36b00; }
.verdict-error { background: #f1e8f7; border-color: #7b3fa0; } .verdict-error .verdict-result { color: #7b3fa0; }
.finding { border-color: #c62828; } .finding dl { grid-template-columns: 130px 1fr; }
.unreverted { color: #c62828; font-weight: 700; }
.leftovers { color: #c62828; font-weight: 700; } .foreign-changes { color: #8a6d00; }
td.effect small, td.counters { color: #555; font-size: 0.85em; }
.ended-early { color: #7b3fa0; font-weight: 600; } tr.ended-early td { background: #f1e8f7; }
figure.chart { margin: 10px 0 18px; }
figcaption { display: flex; flex-direction: column; gap: 2px; margin-bottom: 4px; }
.chart-title { font-weight: 600; } .chart-source, .note { color: #667; font-size: 0.85em; }
.chart-error { color: #c62828; font-size: 0.85em; }
svg.slo-chart { max-width: 100%; height: auto; background: #fff; font-size: 11px; }
.plot-area { fill: #fbfcfd; stroke: #c9ced6; }
.grid { stroke: #eceef2; }
.x-tick, .y-tick, .axis-label { fill: #556; }
.fault-window { fill: #f4a259; fill-opacity: 0.28; stroke: #e07b1a; stroke-opacity: 0.5; }
.phase-boundary { stroke: #7a8190; stroke-dasharray: 4 3; }
.phase-label { fill: #4a5160; font-size: 10px; }
.threshold { stroke: #2e8b47; stroke-width: 1.5; stroke-dasharray: 8 4; }
.threshold.abort { stroke: #e08600; }
.threshold-label { fill: #33394a; font-size: 10px; }
.series { fill: none; stroke-width: 2; stroke: #1f77b4; }
.series-1 { stroke: #9467bd; } .series-2 { stroke: #17becf; } .series-3 { stroke: #8c564b; }
.series-4 { stroke: #e377c2; } .series-5 { stroke: #7f7f7f; }
.evaluation.pass { fill: #2e8b47; } .evaluation.fail { fill: #c62828; }
.evaluation.not-triggered { fill: #9aa0aa; } .evaluation.triggered { fill: #c62828; }
.no-data { fill: #999; font-size: 14px; }
.legend { font-size: 0.8em; color: #556; }
table { border-collapse: collapse; width: 100%; font-size: 0.85em; margin-bottom: 8px; }
th, td { border-bottom: 1px solid #e3e6eb; padding: 3px 6px; text-align: left; vertical-align: top; }
.event-abort td, .event-error td { color: #c62828; } .event-verdict td { font-weight: 600; }
footer { color: #889; font-size: 0.8em; padding: 8px 24px 24px; }
)css";

}  // namespace chaos::orchestrator::report
