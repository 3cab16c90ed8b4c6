// npfast: fast, predictable CPU kernels for array work. Umbrella header.
#pragma once

#include "npfast/config.hpp"
#include "npfast/dispatch.hpp"
#include "npfast/error.hpp"
#include "npfast/memory.hpp"
#include "npfast/threads.hpp"
#include "npfast/view.hpp"
#include "npfast/elementwise.hpp"
#include "npfast/pool.hpp"
#include "npfast/corr2d.hpp"
#include "npfast/conv.hpp"
#include "npfast/gemm.hpp"
#include "npfast/limits.hpp"
#include "npfast/ndimage.hpp"
#include "npfast/ndimage_rank.hpp"
#include "npfast/norm.hpp"
