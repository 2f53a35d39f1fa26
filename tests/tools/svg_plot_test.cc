#include "tools/svg_plot.h"

#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <string>
#include <vector>

#include "tests/tools/xml_check.h"

namespace grapevine::tools {
namespace {

TEST(NiceTicksTest, OneTwoFiveSteps) {
  EXPECT_EQ(NiceTicks(0, 1, 5), (std::vector<double>{0, 0.2, 0.4, 0.6, 0.8, 1.0}));
  std::vector<double> t = NiceTicks(0.13, 0.87, 6);
  ASSERT_GE(t.size(), 2u);
  EXPECT_LE(t.front(), 0.13);
  EXPECT_GE(t.back(), 0.87);
  EXPECT_NEAR(t[1] - t[0], 0.1, 1e-12);
  EXPECT_EQ(NiceTicks(0, 3700, 5), (std::vector<double>{0, 1000, 2000, 3000, 4000}));
}

TEST(NiceTicksTest, IntegerAndDegenerateRanges) {
  std::vector<double> t = NiceTicks(1, 3, 8, /*integer=*/true);
  EXPECT_EQ(t, (std::vector<double>{1, 2, 3}));
  std::vector<double> same = NiceTicks(5, 5, 5);
  ASSERT_GE(same.size(), 2u);
  EXPECT_LE(same.front(), 5);
  EXPECT_GT(same.back(), 5);
  // Ten agents that all scored 0.1, averaged: a range of one rounding step. Used to
  // loop for ever (ticks 1e-18 apart at 0.1) until `launch` died of std::bad_alloc.
  std::vector<double> tenth = NiceTicks(0.09999999999999999, 0.1, 6);
  ASSERT_GE(tenth.size(), 2u);
  EXPECT_LE(tenth.size(), 12u);
  EXPECT_LE(tenth.front(), 0.09999999999999999);
  EXPECT_GT(tenth.back(), 0.1);
  EXPECT_LE(NiceTicks(1e300, std::nextafter(1e300, 2e300), 6).size(), 12u);
}

TEST(FormatTickTest, DecimalsFollowTheStep) {
  EXPECT_EQ(FormatTick(0.2, 0.2), "0.2");
  EXPECT_EQ(FormatTick(0.05, 0.05), "0.05");
  EXPECT_EQ(FormatTick(1500, 500), "1500");
  EXPECT_EQ(FormatTick(-1e-17, 0.1), "0.0");
}

TEST(ScaleColorTest, EndsAndClamping) {
  EXPECT_EQ(ScaleColor(0), "#440154");
  EXPECT_EQ(ScaleColor(1), "#fde725");
  EXPECT_EQ(ScaleColor(-3), ScaleColor(0));
  EXPECT_EQ(ScaleColor(7), ScaleColor(1));
  EXPECT_TRUE(ScaleNeedsLightText(0.1));
  EXPECT_FALSE(ScaleNeedsLightText(0.9));
}

TEST(XmlEscapeTest, EscapesMarkup) {
  EXPECT_EQ(XmlEscape("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
}

SvgPlot TwoLinePlot() {
  PlotOptions o;
  o.title = "t <&>";
  o.x_label = "round";
  o.y_label = "acc";
  o.y_min = 0;
  o.y_max = 1;
  SvgPlot plot(o);
  plot.AddBand({"band", "#123456", 0.2, {1, 2, 3}, {0.1, 0.2, 0.3}, {0.5, 0.6, 1.0}});
  plot.AddLine({"a", "#ff0000", {{1, 0.2}, {2, 0.5}, {3, 1.0}}, 2, 1, false, false, ""});
  plot.AddLine({"b", "#00ff00", {{1, 0.0}, {3, 0.4}}, 1, 0.3, true, true, ""});
  return plot;
}

TEST(SvgPlotTest, WellFormedWithOneElementPerSeries) {
  std::string svg = TwoLinePlot().Render();
  EXPECT_TRUE(xmlcheck::BalancedTags(svg)) << svg;
  EXPECT_EQ(xmlcheck::CountTag(svg, "polyline"), 2);
  EXPECT_EQ(xmlcheck::CountTag(svg, "polygon"), 1);
  EXPECT_EQ(xmlcheck::CountTag(svg, "circle"), 2);  // markers of line b only
  EXPECT_NE(svg.find("t &lt;&amp;&gt;"), std::string::npos);
  EXPECT_NE(svg.find("stroke-dasharray"), std::string::npos);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
}

TEST(SvgPlotTest, ValuesMapToThePlotArea) {
  SvgPlot plot = TwoLinePlot();
  PlotFrame f = plot.Frame();
  EXPECT_DOUBLE_EQ(f.x0, 1);
  EXPECT_DOUBLE_EQ(f.x1, 3);
  EXPECT_DOUBLE_EQ(f.PixelY(1.0), f.top);
  EXPECT_DOUBLE_EQ(f.PixelY(0.0), f.bottom);
  EXPECT_DOUBLE_EQ(f.PixelX(1), f.left);
  EXPECT_DOUBLE_EQ(f.PixelX(3), f.right);
  EXPECT_LT(f.left, f.right);
  EXPECT_LT(f.top, f.bottom);

  // Line a: its first polyline's last point is the maximum, at the top right corner.
  std::string svg = plot.Render();
  std::vector<std::pair<double, double>> pts = xmlcheck::FirstPolylinePoints(svg);
  ASSERT_EQ(pts.size(), 3u);
  EXPECT_NEAR(pts[2].first, f.right, 0.01);
  EXPECT_NEAR(pts[2].second, f.top, 0.01);
  EXPECT_NEAR(pts[0].first, f.left, 0.01);
  EXPECT_NEAR(pts[0].second, f.PixelY(0.2), 0.01);
  EXPECT_GT(pts[0].second, pts[1].second);  // higher accuracy is higher on the page
}

TEST(SvgPlotTest, AutomaticRangeStaysInsideFloorAndCeiling) {
  PlotOptions o;
  o.y_floor = 0;
  o.y_ceil = 1;
  SvgPlot plot(o);
  plot.AddLine({"", "#000", {{0, 0.31}, {10, 0.97}}, 1, 1, false, false, ""});
  PlotFrame f = plot.Frame();
  EXPECT_LE(f.y0, 0.31);
  EXPECT_GE(f.y0, 0);
  EXPECT_GE(f.y1, 0.97);
  EXPECT_LE(f.y1, 1);
}

TEST(SvgPlotTest, AutomaticRangeEndsOnLabelledTicks) {
  for (auto [lo, hi] : {std::pair{0.665, 0.845}, std::pair{0.31, 0.97}, std::pair{12.0, 4700.0}}) {
    SvgPlot plot(PlotOptions{});
    plot.AddLine({"", "#000", {{0, lo}, {10, hi}}, 1, 1, false, false, ""});
    PlotFrame f = plot.Frame();
    ASSERT_GE(f.y_ticks.size(), 2u);
    EXPECT_DOUBLE_EQ(f.y_ticks.front(), f.y0) << lo;
    EXPECT_DOUBLE_EQ(f.y_ticks.back(), f.y1) << hi;
    EXPECT_LE(f.y0, lo);
    EXPECT_GE(f.y1, hi);
    std::string svg = plot.Render();
    EXPECT_NE(svg.find(">" + FormatTick(f.y1, f.y_step) + "</text>"), std::string::npos);
  }
}

TEST(SvgPlotTest, EmptyPlotStillRenders) {
  SvgPlot plot(PlotOptions{});
  std::string svg = plot.Render();
  EXPECT_TRUE(xmlcheck::BalancedTags(svg));
  EXPECT_EQ(xmlcheck::CountTag(svg, "polyline"), 0);
}

TEST(SvgPlotTest, NonFiniteValuesAreSkipped) {
  SvgPlot plot(PlotOptions{});
  plot.AddLine({"x", "#000", {{1, 0.5}, {2, NAN}, {3, 0.7}}, 1, 1, false, false, ""});
  std::string svg = plot.Render();
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(xmlcheck::FirstPolylinePoints(svg).size(), 2u);
}

}  // namespace
}  // namespace grapevine::tools
