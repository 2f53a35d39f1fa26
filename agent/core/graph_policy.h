// Join and repair policies: pure choices over a MemberTable, shared by every node so
// that all of them make the same choice from the same view.
//
//   * Join: the new id is (largest id ever seen, dead and left included, so ids are
//     never reused) + 1 + the admitter's rank among live members. The rank offset
//     keeps two members with the same view from handing out the same id at once
//     (ids are unique, not dense; joins through one member stay dense). Members with
//     different views can still collide; MemberTable's conflict rule (smaller
//     address wins) settles it and the loser joins again (see docs/membership.md).
//   * Attach / repair candidates are ordered by: below the soft max degree first,
//     then not already in the chooser's live component (repair only, so a split
//     graph is stitched back), then lowest live degree, then lowest id.
//   * Bridge: a safety net when the live graph is still disconnected after degree
//     repair: the smallest live id links to the least-loaded node of every other
//     component.
//
// Stateless functions; no thread-safety concerns.
#pragma once

#include <cstddef>
#include <vector>

#include "agent/core/member_table.h"

namespace grapevine::agent::core {

// The id `admitter` hands to the next joiner.
NodeId NextJoinId(const MemberTable& table, NodeId admitter);

// Up to k alive members (state alive, never suspect) to attach a joiner to.
std::vector<NodeId> PickAttachPoints(const MemberTable& table, int k, int max_degree);

// Alive non-neighbours `self` should link to so its live degree gets back to
// min(min_degree, its degree in the full edge set, dead neighbours included): repair
// replaces lost neighbours, it never densifies a sparse topology on purpose.
// Empty when nothing is missing or nobody is available.
std::vector<NodeId> PickRepairTargets(const MemberTable& table, NodeId self, int min_degree,
                                      int max_degree);

// Edges that reconnect a disconnected live graph; empty unless `self` is the smallest
// live id and the live graph has more than one component.
std::vector<Edge> PickBridges(const MemberTable& table, NodeId self);

}  // namespace grapevine::agent::core
