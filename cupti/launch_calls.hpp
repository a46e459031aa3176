// Which CUDA runtime/driver calls launch device work, by CUPTI's name for them. Their activity
// records (ApiRecord) carry the host time of each launch and the correlation id of the work,
// which is how kernels are attributed to training phases (phases.hpp). Recording only these
// calls, rather than every API call, keeps the overhead to one small record per launch.
#pragma once

#include <string_view>

#include "cupti/records.hpp"

namespace p4s::cupti {

// True for kernel launches (cudaLaunchKernel*, cudaLaunchCooperativeKernel*, cuLaunchKernel*,
// cuLaunchKernelEx*, ...), copies (cudaMemcpy*, cuMemcpy*), memsets (cudaMemset*, cuMemset*)
// and graph launches (cudaGraphLaunch*, cuGraphLaunch*). Host-function launches
// (cudaLaunchHostFunc, cuLaunchHostFunc) run no device work and are excluded.
bool is_work_launch_call(ApiDomain domain, std::string_view callback_name);

}  // namespace p4s::cupti
