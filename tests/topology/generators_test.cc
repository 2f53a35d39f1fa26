#include <gtest/gtest.h>

#include <algorithm>

#include "topology/dot.h"
#include "topology/generators.h"
#include "topology/graph_metrics.h"

namespace grapevine::topology {
namespace {

Topology Gen(GraphKind kind, int n, GeneratorOptions options = {}) {
  Result<Topology> t = Generate(kind, n, options);
  EXPECT_TRUE(t.ok()) << GraphKindName(kind) << " " << n << ": " << t.status().message();
  return t.ok() ? std::move(t).value() : Topology();
}

std::vector<int> Degrees(const Topology& t) {
  std::vector<int> d;
  for (int i = 0; i < t.num_nodes(); ++i) d.push_back(t.Degree(i));
  return d;
}

bool AllDegrees(const Topology& t, int degree) {
  std::vector<int> d = Degrees(t);
  return std::all_of(d.begin(), d.end(), [degree](int x) { return x == degree; });
}

TEST(GeneratorsTest, KindNamesRoundTrip) {
  for (const std::string& name : GraphKindNames()) {
    Result<GraphKind> kind = ParseGraphKind(name);
    ASSERT_TRUE(kind.ok());
    EXPECT_EQ(GraphKindName(*kind), name);
  }
  EXPECT_FALSE(ParseGraphKind("lattice").ok());
}

TEST(GeneratorsTest, NamesAndAddresses) {
  GeneratorOptions options;
  options.host = "10.1.2.3";
  options.base_port = 5000;
  Topology t = Gen(GraphKind::kRing, 5, options);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(t.node(i).name, std::to_string(i));
    EXPECT_EQ(t.addr(i), "10.1.2.3:" + std::to_string(5000 + i));
  }
  options.host = "";
  EXPECT_EQ(Gen(GraphKind::kRing, 5, options).addr(0), "");
}

TEST(GeneratorsTest, DeterministicCountsAndDegrees) {
  Topology ring = Gen(GraphKind::kRing, 10);
  EXPECT_EQ(ring.num_edges(), 10);
  EXPECT_TRUE(AllDegrees(ring, 2));

  Topology grid = Gen(GraphKind::kGrid, 12);  // 3 x 4
  EXPECT_EQ(grid.num_edges(), 3 * 3 + 2 * 4);
  std::vector<int> grid_degrees = Degrees(grid);
  EXPECT_EQ(*std::min_element(grid_degrees.begin(), grid_degrees.end()), 2);
  EXPECT_EQ(*std::max_element(grid_degrees.begin(), grid_degrees.end()), 4);
  EXPECT_EQ(Diameter(grid).value, 2 + 3);

  Topology torus = Gen(GraphKind::kTorus, 16);  // 4 x 4
  EXPECT_EQ(torus.num_edges(), 32);
  EXPECT_TRUE(AllDegrees(torus, 4));
  EXPECT_EQ(Diameter(torus).value, 4);

  Topology complete = Gen(GraphKind::kComplete, 7);
  EXPECT_EQ(complete.num_edges(), 21);
  EXPECT_TRUE(AllDegrees(complete, 6));

  Topology star = Gen(GraphKind::kStar, 9);
  EXPECT_EQ(star.num_edges(), 8);
  EXPECT_EQ(star.Degree(0), 8);
  EXPECT_EQ(star.Degree(5), 1);

  Topology cube = Gen(GraphKind::kHypercube, 16);
  EXPECT_EQ(cube.num_edges(), 32);
  EXPECT_TRUE(AllDegrees(cube, 4));
  EXPECT_EQ(Diameter(cube).value, 4);

  Topology expo = Gen(GraphKind::kExponential, 8);  // hops 1, 2, 4 (4 and -4 coincide)
  EXPECT_EQ(expo.num_edges(), 8 + 8 + 4);
  EXPECT_TRUE(AllDegrees(expo, 5));
  EXPECT_TRUE(expo.HasEdge(0, 4));
  EXPECT_FALSE(expo.HasEdge(0, 3));

  Topology hubs = Gen(GraphKind::kTwoHub, 10);
  EXPECT_EQ(hubs.num_edges(), 16);
  EXPECT_FALSE(hubs.HasEdge(0, 1));
  EXPECT_EQ(hubs.Degree(0), 8);
  EXPECT_EQ(hubs.Degree(1), 8);
  EXPECT_EQ(hubs.Degree(7), 2);

  for (const Topology* t : {&ring, &grid, &torus, &complete, &star, &cube, &expo, &hubs}) {
    EXPECT_TRUE(IsConnected(*t));
  }
}

TEST(GeneratorsTest, RandomKindsAreSeededConnectedAndShaped) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    GeneratorOptions options;
    options.seed = seed;
    options.degree = 3;
    Topology rr = Gen(GraphKind::kRandomRegular, 40, options);
    EXPECT_TRUE(AllDegrees(rr, 3));
    EXPECT_EQ(rr.num_edges(), 60);
    EXPECT_TRUE(IsConnected(rr));
    // Simple graph: no self-loops, no duplicates kept.
    EXPECT_EQ(rr.edges().size(), 60u);

    options.degree = 0;
    options.p = 0.15;
    Topology er = Gen(GraphKind::kErdosRenyi, 40, options);
    EXPECT_TRUE(IsConnected(er));

    options.degree = 4;
    options.p = 0.2;
    Topology sw = Gen(GraphKind::kSmallWorld, 40, options);
    EXPECT_EQ(sw.num_edges(), 80);  // rewiring keeps the edge count
    EXPECT_TRUE(IsConnected(sw));
  }
}

TEST(GeneratorsTest, SameSeedSameGraphOtherSeedOtherGraph) {
  for (GraphKind kind : {GraphKind::kRandomRegular, GraphKind::kErdosRenyi, GraphKind::kSmallWorld}) {
    GeneratorOptions a;
    a.seed = 42;
    GeneratorOptions b = a;
    b.seed = 43;
    std::string first = WriteDot(Gen(kind, 30, a));
    EXPECT_EQ(first, WriteDot(Gen(kind, 30, a))) << GraphKindName(kind);
    EXPECT_NE(first, WriteDot(Gen(kind, 30, b))) << GraphKindName(kind);
  }
}

TEST(GeneratorsTest, SmallWorldWithoutRewiringIsTheLattice) {
  GeneratorOptions options;
  options.p = 0;
  options.degree = 4;
  Topology sw = Gen(GraphKind::kSmallWorld, 12, options);
  EXPECT_TRUE(AllDegrees(sw, 4));
  EXPECT_TRUE(sw.HasEdge(0, 2));
  EXPECT_TRUE(sw.HasEdge(11, 1));
}

TEST(GeneratorsTest, RejectsImpossibleRequests) {
  GeneratorOptions odd;
  odd.degree = 3;
  EXPECT_FALSE(Generate(GraphKind::kRandomRegular, 11, odd).ok());  // n*d odd
  EXPECT_FALSE(Generate(GraphKind::kHypercube, 12).ok());
  EXPECT_FALSE(Generate(GraphKind::kRing, 2).ok());
  EXPECT_FALSE(Generate(GraphKind::kTwoHub, 2).ok());
  EXPECT_FALSE(Generate(GraphKind::kRing, 0).ok());
  GeneratorOptions ports;
  ports.base_port = 65530;
  EXPECT_FALSE(Generate(GraphKind::kRing, 10, ports).ok());
  GeneratorOptions sparse;
  sparse.p = 0.001;
  Result<Topology> er = Generate(GraphKind::kErdosRenyi, 50, sparse);
  ASSERT_FALSE(er.ok());
  EXPECT_NE(er.status().message().find("not connected"), std::string::npos);
  GeneratorOptions odd_sw;
  odd_sw.degree = 3;
  EXPECT_FALSE(Generate(GraphKind::kSmallWorld, 10, odd_sw).ok());
}

TEST(GeneratorsTest, DirectedRingRunsIToIPlusOne) {
  GeneratorOptions options;
  options.directed = true;
  Topology ring = Gen(GraphKind::kRing, 5, options);
  ASSERT_TRUE(ring.directed());
  EXPECT_EQ(ring.num_edges(), 5);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(ring.OutNeighbors(i), std::vector<int>{(i + 1) % 5});
    EXPECT_EQ(ring.InNeighbors(i), std::vector<int>{(i + 4) % 5});
    EXPECT_EQ(ring.addr(i), "127.0.0.1:" + std::to_string(30000 + i));
  }
  EXPECT_TRUE(IsConnected(ring));
  const std::string dot = WriteDot(ring);
  EXPECT_EQ(dot.rfind("digraph", 0), 0u) << dot;
  EXPECT_NE(dot.find("4 -> 0"), std::string::npos) << dot;
  std::vector<Issue> issues;
  Result<Topology> back = ReadDot(dot, "ring5.dot", &issues);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_TRUE(back->directed());
  EXPECT_EQ(back->OutNeighbors(4), std::vector<int>{0});
}

TEST(GeneratorsTest, DirectedExponentialSendsToPowersOfTwo) {
  GeneratorOptions options;
  options.directed = true;
  Topology g = Gen(GraphKind::kExponential, 8, options);
  EXPECT_EQ(g.num_edges(), 24);  // 3 out-edges each: +1, +2, +4
  EXPECT_EQ(g.OutNeighbors(6), (std::vector<int>{0, 2, 7}));
  EXPECT_EQ(g.InNeighbors(0), (std::vector<int>{4, 6, 7}));
  EXPECT_TRUE(IsConnected(g));
}

TEST(GeneratorsTest, DirectedErdosRenyiIsSeededStronglyConnectedAndAsymmetric) {
  GeneratorOptions options;
  options.directed = true;
  options.p = 0.2;
  for (uint64_t seed : {1u, 2u, 3u}) {
    options.seed = seed;
    Topology g = Gen(GraphKind::kErdosRenyi, 20, options);
    ASSERT_TRUE(g.directed());
    EXPECT_TRUE(IsConnected(g));  // strongly
    int one_way = 0;
    for (const Edge& e : g.edges()) one_way += !g.HasEdge(e.v, e.u);
    EXPECT_GT(one_way, 0) << "seed " << seed;
    EXPECT_EQ(WriteDot(g), WriteDot(Gen(GraphKind::kErdosRenyi, 20, options)));
  }
  options.p = 0.01;
  Result<Topology> sparse = Generate(GraphKind::kErdosRenyi, 50, options);
  ASSERT_FALSE(sparse.ok());
  EXPECT_NE(sparse.status().message().find("not strongly connected"), std::string::npos);
}

TEST(GeneratorsTest, KindsWithoutADirectedFormSaySo) {
  GeneratorOptions options;
  options.directed = true;
  Result<Topology> star = Generate(GraphKind::kStar, 5, options);
  ASSERT_FALSE(star.ok());
  EXPECT_NE(star.status().message().find("no directed form"), std::string::npos);
  EXPECT_FALSE(Generate(GraphKind::kRing, 2, options).ok());
}

}  // namespace
}  // namespace grapevine::topology
