// SvgPlot: a small line-plot writer for the run reports of `grapevine launch`
// (accuracy.svg, bytes.svg). It draws a title, a one-row legend, axes with "nice"
// 1-2-5 ticks and grid lines, axis labels, filled bands (e.g. the min-max range of a
// metric across agents) and lines (optionally faint, optionally with point markers).
// The output is a standalone SVG document with no external fonts, scripts or styles,
// which can also be pasted inline into an HTML page (all element ids carry the plot's
// `id` prefix so several plots can share one page).
//
// Coordinates: data (x, y) maps linearly onto the plot area (Frame()); larger y is
// higher on the page. Points outside the axis range are clipped to the plot area.
//
// Thread-safety: value type; no shared state.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace grapevine::tools {

struct PlotPoint {
  double x = 0;
  double y = 0;
};

struct PlotLine {
  std::string label;  // legend entry; empty: not in the legend
  std::string color = "#1f77b4";
  std::vector<PlotPoint> points;  // drawn in the given order
  double width = 2.0;
  double opacity = 1.0;
  bool markers = false;  // a dot at every point (always on for a single point)
  bool dashed = false;
  std::string tooltip;   // hover text (<title>); empty: the label
};

// The area between lo(x) and hi(x), e.g. the min-max accuracy across agents.
struct PlotBand {
  std::string label;  // legend entry; empty: not in the legend
  std::string color = "#1f77b4";
  double opacity = 0.18;
  std::vector<double> x;
  std::vector<double> lo;  // same length as x
  std::vector<double> hi;  // same length as x
};

struct PlotOptions {
  std::string id = "plot";  // prefix of element ids; unique per HTML page
  std::string title;
  std::string x_label;
  std::string y_label;
  int width = 1000;
  int height = 420;
  // Fixed axis ranges; unset: a nice range around the data.
  std::optional<double> x_min, x_max, y_min, y_max;
  // Bounds for the automatic y range (accuracy: 0 and 1).
  std::optional<double> y_floor, y_ceil;
  bool y_from_zero = false;  // automatic y range starts at 0 (byte counts)
  bool x_integer = false;    // x ticks are whole numbers (rounds)
};

// Pixel box of the plot area and the data range it shows.
struct PlotFrame {
  double left = 0, top = 0, right = 0, bottom = 0;  // pixels
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;            // data
  std::vector<double> x_ticks, y_ticks;             // inside [x0, x1] and [y0, y1]
  double x_step = 1, y_step = 1;                    // tick spacing (label precision)
  double PixelX(double x) const { return left + (x - x0) / (x1 - x0) * (right - left); }
  double PixelY(double y) const { return bottom - (y - y0) / (y1 - y0) * (bottom - top); }
};

class SvgPlot {
 public:
  explicit SvgPlot(PlotOptions options) : options_(std::move(options)) {}

  void AddBand(PlotBand band) { bands_.push_back(std::move(band)); }
  void AddLine(PlotLine line) { lines_.push_back(std::move(line)); }

  // Axis ranges and pixel box as Render() uses them.
  PlotFrame Frame() const;
  // The SVG document (starts with "<svg", no XML declaration).
  std::string Render() const;

 private:
  int LegendRows() const;
  std::string RenderLegend(const PlotFrame& frame) const;
  std::string RenderAxes(const PlotFrame& frame) const;

  PlotOptions options_;
  std::vector<PlotBand> bands_;
  std::vector<PlotLine> lines_;
};

// Ticks with a 1, 2 or 5 x 10^k step covering [lo, hi], about `target` of them; with
// `integer` the step is at least 1. Returns at least two ticks; lo == hi is widened.
std::vector<double> NiceTicks(double lo, double hi, int target, bool integer = false);

// A tick label with as many decimals as the step needs ("0.25", "1500", "2").
std::string FormatTick(double value, double step);

// Colours for series i = 0, 1, ... (a ten-colour qualitative palette, repeating).
const char* PaletteColor(size_t i);

// A perceptually ordered dark-blue -> green -> yellow scale; t is clamped to [0, 1].
std::string ScaleColor(double t);
// Whether text on ScaleColor(t) should be white (dark background) rather than black.
bool ScaleNeedsLightText(double t);

// Escapes & < > " ' for XML and HTML text and attribute values.
std::string XmlEscape(std::string_view text);

}  // namespace grapevine::tools
