// Topology: the graph a swarm runs on, as read from a file or generated.
//
// Nodes have a dense index 0..N-1 (position in nodes()) and keep the name they had in
// the file ("0", "alice", "n17"): `grapevine agent --node ID` finds its node by that
// name (FindNode). Generated files name node i "i", so index and name agree there.
// Edges keep their optional weight and source line; duplicates and self-loops are kept
// in edges() so Validate() can report them, but the adjacency lists (Neighbors etc.)
// are deduplicated and never contain the node itself.
//
// Directed edges u -> v mean "u sends its model to v": v receives from its
// in-neighbours, so row v of a mixing matrix is over InNeighbors(v).
//
// Boost.Graph stays out of this header (see graph_metrics.cc).
// Thread-safety: value type; const methods are safe to call concurrently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace grapevine::topology {

struct Node {
  std::string name;   // the id as written in the file
  std::string addr;   // "host:port"; empty when the file gives none
  std::string group;  // optional locality group (ALGORITHMS.md two-tier schemes)
  int line = 0;       // where it was declared (0: generated or implicit)
  // Straggler emulation (attribute slowdown=F): the agent's compute takes F times as
  // long (it sleeps F-1 times each step's compute). 1 = as fast as the machine.
  double slowdown = 1.0;
};

struct Edge {
  int u = 0;  // dense node indices; directed: u -> v
  int v = 0;
  std::optional<double> weight;
  int line = 0;
};

class Topology {
 public:
  explicit Topology(bool directed = false) : directed_(directed) {}

  bool directed() const { return directed_; }
  void set_directed(bool directed) { directed_ = directed; }
  // File the topology came from (for messages); empty when generated.
  const std::string& source() const { return source_; }
  void set_source(std::string source) { source_ = std::move(source); }

  int num_nodes() const { return static_cast<int>(nodes_.size()); }
  // Number of distinct edges (duplicates and self-loops not counted).
  int num_edges() const { return num_distinct_edges_; }

  // Returns the index of the node called `name`, adding it when it is new.
  int FindOrAddNode(const std::string& name, int line = 0);
  // Index of the node called `name` (the file's id), or nullopt.
  std::optional<int> FindNode(std::string_view name) const;

  // REQUIRES: 0 <= u, v < num_nodes().
  void AddEdge(int u, int v, std::optional<double> weight = std::nullopt, int line = 0);
  bool HasEdge(int u, int v) const;  // directed: u -> v; undirected: either way

  const std::vector<Node>& nodes() const { return nodes_; }
  const Node& node(int i) const { return nodes_[static_cast<size_t>(i)]; }
  Node& mutable_node(int i) { return nodes_[static_cast<size_t>(i)]; }
  const std::vector<Edge>& edges() const { return edges_; }

  // Undirected: adjacent nodes. Directed: in- and out-neighbours together. Sorted.
  std::vector<int> Neighbors(int i) const;
  const std::vector<int>& OutNeighbors(int i) const { return out_[static_cast<size_t>(i)]; }
  const std::vector<int>& InNeighbors(int i) const { return in_[static_cast<size_t>(i)]; }
  int Degree(int i) const { return static_cast<int>(Neighbors(i).size()); }
  const std::string& addr(int i) const { return node(i).addr; }

 private:
  static uint64_t Key(int u, int v) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(u)) << 32) | static_cast<uint32_t>(v);
  }

  bool directed_;
  std::string source_;
  std::vector<Node> nodes_;
  std::unordered_map<std::string, int> index_;
  std::vector<Edge> edges_;
  std::unordered_set<uint64_t> edge_keys_;  // (u,v); undirected stored as (min,max)
  int num_distinct_edges_ = 0;
  std::vector<std::vector<int>> out_;  // undirected: out_ == in_ == adjacency
  std::vector<std::vector<int>> in_;
};

}  // namespace grapevine::topology
