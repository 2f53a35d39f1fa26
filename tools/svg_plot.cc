#include "tools/svg_plot.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>

namespace grapevine::tools {
namespace {

constexpr double kCharWidth = 6.8;  // average glyph width at 12px, for layout only
constexpr double kTitleHeight = 30;
constexpr double kLegendRowHeight = 20;
constexpr double kRightMargin = 22;
constexpr double kBottomMargin = 52;
constexpr const char* kFontFamily =
    "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  return buf;
}

struct LegendItem {
  std::string label;
  std::string color;
  bool band = false;
  bool dashed = false;
  double opacity = 1.0;
  double x = 0;  // offset from the plot's left edge
  int row = 0;
};

// Legend entries laid out left to right, wrapping at `available` pixels.
std::vector<LegendItem> LayoutLegend(const std::vector<PlotBand>& bands,
                                     const std::vector<PlotLine>& lines, double available) {
  std::vector<LegendItem> items;
  for (const auto& b : bands) {
    if (!b.label.empty()) items.push_back({b.label, b.color, true, false, std::max(b.opacity, 0.3)});
  }
  for (const auto& l : lines) {
    if (!l.label.empty()) items.push_back({l.label, l.color, false, l.dashed, std::max(l.opacity, 0.3)});
  }
  double x = 0;
  int row = 0;
  for (auto& item : items) {
    double w = 26 + kCharWidth * static_cast<double>(item.label.size()) + 18;
    if (x > 0 && x + w > available) {
      ++row;
      x = 0;
    }
    item.x = x;
    item.row = row;
    x += w;
  }
  return items;
}

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void Add(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return lo > hi; }
};

double TickStep(const std::vector<double>& ticks) {
  return ticks.size() >= 2 ? ticks[1] - ticks[0] : 1.0;
}

// Ticks of `all` that fall inside [lo, hi] (with a little slack for rounding).
std::vector<double> TicksWithin(const std::vector<double>& all, double lo, double hi) {
  std::vector<double> out;
  double eps = (hi - lo) * 1e-9;
  for (double t : all) {
    if (t >= lo - eps && t <= hi + eps) out.push_back(t);
  }
  return out;
}

}  // namespace

std::vector<double> NiceTicks(double lo, double hi, int target, bool integer) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (lo > hi) std::swap(lo, hi);
  // A range within rounding of one value (0.09999999999999999 to 0.1: ten agents
  // that all scored 0.1, averaged) is one value: ticks 1e-18 apart at 0.1 would never
  // end (k += 1 is lost at 1e17).
  if (hi - lo <= 1e-9 * std::max(std::fabs(lo), std::fabs(hi))) {
    double pad = integer ? 1.0 : (lo == 0 ? 1.0 : std::fabs(lo) * 0.1);
    lo -= integer ? 0.0 : pad;
    hi += pad;
  }
  double raw = (hi - lo) / std::max(1, target);
  int exponent = static_cast<int>(std::floor(std::log10(raw)));
  double norm = raw / std::pow(10.0, exponent);
  double digit = norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10;
  if (integer && exponent < 0) digit = 1, exponent = 0;
  // k * digit / 10^-e rounds to the nearest double of the decimal tick (0.6, not
  // 0.6000000000000001 as 3 * 0.2 would).
  auto tick = [&](double k) {
    return exponent < 0 ? k * digit / std::pow(10.0, -exponent)
                        : k * digit * std::pow(10.0, exponent);
  };
  const double step = tick(1);
  double start = std::floor(lo / step + 1e-9);
  double end = std::ceil(hi / step - 1e-9);
  std::vector<double> ticks;
  for (double k = start; k <= end + 0.5 && ticks.size() < 1000; k += 1) {
    double t = tick(k);
    ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
  }
  if (ticks.size() < 2) ticks.push_back(ticks.back() + step);
  return ticks;
}

std::string FormatTick(double value, double step) {
  int decimals = 0;
  if (step > 0 && step < 1) decimals = static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  if (std::fabs(value) < step * 1e-9) value = 0;
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, value);
  return buf;
}

const char* PaletteColor(size_t i) {
  static constexpr std::array<const char*, 10> kPalette = {
      "#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1",
      "#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#bab0ac"};
  return kPalette[i % kPalette.size()];
}

std::string ScaleColor(double t) {
  // Anchor colours of a blue -> teal -> green -> yellow ramp, evenly spaced in t.
  static constexpr std::array<std::array<int, 3>, 8> kAnchors = {{{68, 1, 84},
                                                                   {70, 50, 126},
                                                                   {54, 92, 141},
                                                                   {39, 127, 142},
                                                                   {31, 161, 135},
                                                                   {74, 193, 109},
                                                                   {160, 218, 57},
                                                                   {253, 231, 37}}};
  if (!std::isfinite(t)) t = 0;
  t = std::clamp(t, 0.0, 1.0);
  double pos = t * static_cast<double>(kAnchors.size() - 1);
  size_t i = std::min(static_cast<size_t>(pos), kAnchors.size() - 2);
  double f = pos - static_cast<double>(i);
  char buf[8];
  int rgb[3];
  for (int c = 0; c < 3; ++c) {
    rgb[c] = static_cast<int>(std::lround(kAnchors[i][static_cast<size_t>(c)] * (1 - f) +
                                          kAnchors[i + 1][static_cast<size_t>(c)] * f));
  }
  std::snprintf(buf, sizeof(buf), "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
  return buf;
}

bool ScaleNeedsLightText(double t) { return !(t >= 0.55); }

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

int SvgPlot::LegendRows() const {
  auto items = LayoutLegend(bands_, lines_, options_.width - 80.0 - kRightMargin);
  return items.empty() ? 0 : items.back().row + 1;
}

PlotFrame SvgPlot::Frame() const {
  Range xr, yr;
  for (const auto& b : bands_) {
    for (size_t i = 0; i < b.x.size() && i < b.lo.size() && i < b.hi.size(); ++i) {
      xr.Add(b.x[i]);
      yr.Add(b.lo[i]);
      yr.Add(b.hi[i]);
    }
  }
  for (const auto& l : lines_) {
    for (const auto& p : l.points) {
      if (!std::isfinite(p.y)) continue;
      xr.Add(p.x);
      yr.Add(p.y);
    }
  }
  if (xr.empty()) xr = {0, 1};
  if (yr.empty()) yr = {0, 1};
  if (options_.y_from_zero) yr.lo = std::min(yr.lo, 0.0);

  PlotFrame f;
  f.x0 = options_.x_min.value_or(xr.lo);
  f.x1 = options_.x_max.value_or(xr.hi);
  if (f.x1 <= f.x0) f.x1 = f.x0 + 1;
  std::vector<double> y_all;
  if (options_.y_min && options_.y_max) {
    f.y0 = *options_.y_min;
    f.y1 = *options_.y_max;
  } else {
    // The automatic range ends on ticks of the data's own tick set.
    y_all = NiceTicks(yr.lo, yr.hi, 6);
    f.y0 = options_.y_min.value_or(y_all.front());
    f.y1 = options_.y_max.value_or(y_all.back());
    if (options_.y_floor && !options_.y_min) f.y0 = std::max(f.y0, *options_.y_floor);
    if (options_.y_ceil && !options_.y_max) f.y1 = std::min(f.y1, *options_.y_ceil);
  }
  if (f.y1 <= f.y0) f.y1 = f.y0 + 1;
  if (y_all.empty() || f.y0 < y_all.front() || f.y1 > y_all.back()) y_all = NiceTicks(f.y0, f.y1, 6);
  f.y_ticks = TicksWithin(y_all, f.y0, f.y1);
  f.y_step = TickStep(y_all);
  std::vector<double> x_all = NiceTicks(f.x0, f.x1, 8, options_.x_integer);
  f.x_ticks = TicksWithin(x_all, f.x0, f.x1);
  f.x_step = TickStep(x_all);

  // Left margin: room for the widest y tick label plus the rotated axis label.
  size_t widest = 1;
  for (double t : f.y_ticks) widest = std::max(widest, FormatTick(t, f.y_step).size());
  f.left = 30 + kCharWidth * static_cast<double>(widest) + 10;
  f.right = options_.width - kRightMargin;
  f.top = kTitleHeight + LegendRows() * kLegendRowHeight + 12;
  f.bottom = options_.height - kBottomMargin;
  return f;
}

std::string SvgPlot::RenderLegend(const PlotFrame& frame) const {
  std::string out;
  auto items = LayoutLegend(bands_, lines_, frame.right - frame.left);
  for (const auto& item : items) {
    double x = frame.left + item.x;
    double y = kTitleHeight + item.row * kLegendRowHeight + 8;
    if (item.band) {
      out += "<rect x=\"" + Num(x) + "\" y=\"" + Num(y - 6) + "\" width=\"20\" height=\"12\" "
             "rx=\"2\" fill=\"" + item.color + "\" fill-opacity=\"" + Num(item.opacity) + "\"/>";
    } else {
      out += "<line x1=\"" + Num(x) + "\" y1=\"" + Num(y) + "\" x2=\"" + Num(x + 20) +
             "\" y2=\"" + Num(y) + "\" stroke=\"" + item.color + "\" stroke-width=\"3\" "
             "stroke-linecap=\"round\" stroke-opacity=\"" + Num(item.opacity) + "\"" +
             (item.dashed ? " stroke-dasharray=\"5 3\"" : "") + "/>";
    }
    out += "<text x=\"" + Num(x + 26) + "\" y=\"" + Num(y + 4) + "\" font-size=\"12\" "
           "fill=\"#333\">" + XmlEscape(item.label) + "</text>\n";
  }
  return out;
}

std::string SvgPlot::RenderAxes(const PlotFrame& f) const {
  std::string out;
  for (double t : f.y_ticks) {
    double y = f.PixelY(t);
    out += "<line x1=\"" + Num(f.left) + "\" y1=\"" + Num(y) + "\" x2=\"" + Num(f.right) +
           "\" y2=\"" + Num(y) + "\" stroke=\"#e6e6e6\"/>";
    out += "<text x=\"" + Num(f.left - 8) + "\" y=\"" + Num(y + 4) + "\" font-size=\"12\" "
           "text-anchor=\"end\" fill=\"#555\">" + FormatTick(t, f.y_step) + "</text>\n";
  }
  for (double t : f.x_ticks) {
    double x = f.PixelX(t);
    out += "<line x1=\"" + Num(x) + "\" y1=\"" + Num(f.top) + "\" x2=\"" + Num(x) +
           "\" y2=\"" + Num(f.bottom) + "\" stroke=\"#f0f0f0\"/>";
    out += "<line x1=\"" + Num(x) + "\" y1=\"" + Num(f.bottom) + "\" x2=\"" + Num(x) +
           "\" y2=\"" + Num(f.bottom + 5) + "\" stroke=\"#888\"/>";
    out += "<text x=\"" + Num(x) + "\" y=\"" + Num(f.bottom + 19) + "\" font-size=\"12\" "
           "text-anchor=\"middle\" fill=\"#555\">" + FormatTick(t, f.x_step) + "</text>\n";
  }
  out += "<rect x=\"" + Num(f.left) + "\" y=\"" + Num(f.top) + "\" width=\"" +
         Num(f.right - f.left) + "\" height=\"" + Num(f.bottom - f.top) +
         "\" fill=\"none\" stroke=\"#888\"/>\n";
  if (!options_.x_label.empty()) {
    out += "<text x=\"" + Num((f.left + f.right) / 2) + "\" y=\"" +
           Num(options_.height - 12.0) + "\" font-size=\"13\" text-anchor=\"middle\" "
           "fill=\"#333\">" + XmlEscape(options_.x_label) + "</text>\n";
  }
  if (!options_.y_label.empty()) {
    double cy = (f.top + f.bottom) / 2;
    out += "<text x=\"16\" y=\"" + Num(cy) + "\" font-size=\"13\" text-anchor=\"middle\" "
           "fill=\"#333\" transform=\"rotate(-90 16 " + Num(cy) + ")\">" +
           XmlEscape(options_.y_label) + "</text>\n";
  }
  return out;
}

std::string SvgPlot::Render() const {
  const PlotFrame f = Frame();
  const std::string w = std::to_string(options_.width);
  const std::string h = std::to_string(options_.height);
  const std::string clip = XmlEscape(options_.id) + "-clip";
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + w + "\" height=\"" +
                    h + "\" viewBox=\"0 0 " + w + " " + h + "\" font-family=\"" +
                    XmlEscape(kFontFamily) + "\" role=\"img\">\n";
  out += "<title>" + XmlEscape(options_.title) + "</title>\n";
  out += "<rect width=\"" + w + "\" height=\"" + h + "\" fill=\"#ffffff\"/>\n";
  // The clip box is a little larger than the plot area so markers on its edges stay round.
  constexpr double kClipPad = 6;
  out += "<defs><clipPath id=\"" + clip + "\"><rect x=\"" + Num(f.left - kClipPad) + "\" y=\"" +
         Num(f.top - kClipPad) + "\" width=\"" + Num(f.right - f.left + 2 * kClipPad) +
         "\" height=\"" + Num(f.bottom - f.top + 2 * kClipPad) + "\"/></clipPath></defs>\n";
  out += "<text x=\"" + Num(f.left) + "\" y=\"20\" font-size=\"16\" font-weight=\"600\" "
         "fill=\"#222\">" + XmlEscape(options_.title) + "</text>\n";
  out += RenderLegend(f);
  out += RenderAxes(f);
  out += "<g clip-path=\"url(#" + clip + ")\">\n";
  for (const auto& b : bands_) {
    std::string pts;
    std::vector<std::string> back;
    for (size_t i = 0; i < b.x.size() && i < b.lo.size() && i < b.hi.size(); ++i) {
      if (!std::isfinite(b.x[i]) || !std::isfinite(b.lo[i]) || !std::isfinite(b.hi[i])) continue;
      pts += Num(f.PixelX(b.x[i])) + "," + Num(f.PixelY(b.hi[i])) + " ";
      back.push_back(Num(f.PixelX(b.x[i])) + "," + Num(f.PixelY(b.lo[i])));
    }
    for (auto it = back.rbegin(); it != back.rend(); ++it) pts += *it + " ";
    if (!pts.empty()) pts.pop_back();
    out += "<polygon points=\"" + pts + "\" fill=\"" + b.color + "\" fill-opacity=\"" +
           Num(b.opacity) + "\" stroke=\"none\"><title>" + XmlEscape(b.label) +
           "</title></polygon>\n";
  }
  for (const auto& l : lines_) {
    std::string pts;
    std::string dots;
    const bool markers = l.markers || l.points.size() == 1;
    for (const auto& p : l.points) {
      if (!std::isfinite(p.x) || !std::isfinite(p.y)) continue;
      const std::string px = Num(f.PixelX(p.x)), py = Num(f.PixelY(p.y));
      pts += (pts.empty() ? "" : " ") + px + "," + py;
      if (markers) {
        dots += "<circle cx=\"" + px + "\" cy=\"" + py + "\" r=\"" + Num(l.width + 1) +
                "\" fill=\"" + l.color + "\" fill-opacity=\"" + Num(l.opacity) + "\"/>";
      }
    }
    const std::string tip = XmlEscape(l.tooltip.empty() ? l.label : l.tooltip);
    out += "<polyline points=\"" + pts + "\" fill=\"none\" stroke=\"" + l.color +
           "\" stroke-width=\"" + Num(l.width) + "\" stroke-opacity=\"" + Num(l.opacity) +
           "\" stroke-linejoin=\"round\" stroke-linecap=\"round\"" +
           (l.dashed ? " stroke-dasharray=\"6 4\"" : "") + "><title>" + tip +
           "</title></polyline>" + dots + "\n";
  }
  out += "</g>\n</svg>\n";
  return out;
}

}  // namespace grapevine::tools
