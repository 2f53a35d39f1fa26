#include "topology/topology.h"

#include <algorithm>

#include "base/check.h"

namespace grapevine::topology {

int Topology::FindOrAddNode(const std::string& name, int line) {
  auto it = index_.find(name);
  if (it != index_.end()) return it->second;
  int index = num_nodes();
  nodes_.push_back(Node{name, "", "", line});
  index_.emplace(name, index);
  out_.emplace_back();
  in_.emplace_back();
  return index;
}

std::optional<int> Topology::FindNode(std::string_view name) const {
  auto it = index_.find(std::string(name));
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

void Topology::AddEdge(int u, int v, std::optional<double> weight, int line) {
  GV_CHECK(u >= 0 && u < num_nodes() && v >= 0 && v < num_nodes());
  edges_.push_back(Edge{u, v, weight, line});
  if (u == v) return;
  uint64_t key = directed_ ? Key(u, v) : Key(std::min(u, v), std::max(u, v));
  if (!edge_keys_.insert(key).second) return;
  ++num_distinct_edges_;
  auto insert_sorted = [](std::vector<int>& list, int x) {
    list.insert(std::lower_bound(list.begin(), list.end(), x), x);
  };
  insert_sorted(out_[static_cast<size_t>(u)], v);
  insert_sorted(in_[static_cast<size_t>(v)], u);
  if (!directed_) {
    insert_sorted(out_[static_cast<size_t>(v)], u);
    insert_sorted(in_[static_cast<size_t>(u)], v);
  }
}

bool Topology::HasEdge(int u, int v) const {
  if (directed_) return edge_keys_.count(Key(u, v)) > 0;
  return edge_keys_.count(Key(std::min(u, v), std::max(u, v))) > 0;
}

std::vector<int> Topology::Neighbors(int i) const {
  const std::vector<int>& out = OutNeighbors(i);
  if (!directed_) return out;
  const std::vector<int>& in = InNeighbors(i);
  std::vector<int> all;
  all.reserve(out.size() + in.size());
  std::set_union(out.begin(), out.end(), in.begin(), in.end(), std::back_inserter(all));
  return all;
}

}  // namespace grapevine::topology
