// C declarations for the CUDA driver, NVRTC, nvJitLink, NCCL, NVML and NVSHMEM calls gpucomm makes.
// Declarations only: nothing here is linked; the GPU target resolves every symbol at run time and
// is the only importer (`internal import CGPU`: no type from here appears in its public API).
// Version differences live here and nowhere else. Layouts: ../shared/notes/gpu-runtime.md.
#ifndef CGPU_H
#define CGPU_H

#include <stddef.h>
#include <stdint.h>

// ---- CUDA driver API (cuda.h, ABI of CUDA 12/13) ----
typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct CUctx_st *CUcontext;
typedef struct CUstream_st *CUstream;
typedef struct CUevent_st *CUevent;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUgraph_st *CUgraph;
typedef struct CUgraphExec_st *CUgraphExec;

typedef CUresult (*PFN_cuGetProcAddress_v2)(const char *symbol, void **pfn, int cudaVersion,
                                             unsigned long long flags, int *symbolStatus);
typedef CUresult (*PFN_cuDriverGetVersion)(int *version);
typedef CUresult (*PFN_cuInit)(unsigned int flags);
typedef CUresult (*PFN_cuGetErrorName)(CUresult error, const char **str);
typedef CUresult (*PFN_cuGetErrorString)(CUresult error, const char **str);
typedef CUresult (*PFN_cuDeviceGetCount)(int *count);
typedef CUresult (*PFN_cuDeviceGet)(CUdevice *device, int ordinal);
typedef CUresult (*PFN_cuDeviceGetName)(char *name, int len, CUdevice dev);
typedef CUresult (*PFN_cuDeviceGetAttribute)(int *pi, int attrib, CUdevice dev);
typedef CUresult (*PFN_cuDeviceTotalMem)(size_t *bytes, CUdevice dev);
typedef CUresult (*PFN_cuDeviceGetPCIBusId)(char *pciBusId, int len, CUdevice dev);
typedef CUresult (*PFN_cuDeviceCanAccessPeer)(int *canAccessPeer, CUdevice dev, CUdevice peerDev);
typedef CUresult (*PFN_cuDevicePrimaryCtxRetain)(CUcontext *pctx, CUdevice dev);
typedef CUresult (*PFN_cuDevicePrimaryCtxRelease)(CUdevice dev);
typedef CUresult (*PFN_cuCtxSetCurrent)(CUcontext ctx);
typedef CUresult (*PFN_cuCtxSynchronize)(void);
typedef CUresult (*PFN_cuCtxEnablePeerAccess)(CUcontext peerContext, unsigned int flags);
typedef CUresult (*PFN_cuMemAlloc)(CUdeviceptr *dptr, size_t bytesize);
typedef CUresult (*PFN_cuMemFree)(CUdeviceptr dptr);
typedef CUresult (*PFN_cuMemGetInfo)(size_t *free, size_t *total);
typedef CUresult (*PFN_cuMemcpyHtoD)(CUdeviceptr dst, const void *src, size_t bytes);
typedef CUresult (*PFN_cuMemcpyDtoH)(void *dst, CUdeviceptr src, size_t bytes);
typedef CUresult (*PFN_cuMemcpyDtoDAsync)(CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream s);
typedef CUresult (*PFN_cuMemcpyPeerAsync)(CUdeviceptr dst, CUcontext dstCtx, CUdeviceptr src,
                                          CUcontext srcCtx, size_t bytes, CUstream s);
typedef CUresult (*PFN_cuMemcpyDtoHAsync)(void *dst, CUdeviceptr src, size_t bytes, CUstream s);
typedef CUresult (*PFN_cuMemHostAlloc)(void **pp, size_t bytesize, unsigned int flags);
typedef CUresult (*PFN_cuMemFreeHost)(void *p);
typedef CUresult (*PFN_cuMemHostGetDevicePointer)(CUdeviceptr *pdptr, void *p, unsigned int flags);
/* Host<->device copies and registered host memory (gpucomm copy). */
typedef CUresult (*PFN_cuMemcpyHtoDAsync)(CUdeviceptr dst, const void *src, size_t bytes, CUstream s);
typedef CUresult (*PFN_cuMemHostRegister)(void *p, size_t bytesize, unsigned int flags);
typedef CUresult (*PFN_cuMemHostUnregister)(void *p);
/* CUDA IPC: a 64-byte handle to cuMemAlloc memory another process on the host can map. */
typedef struct CUipcMemHandle_st { char reserved[64]; } CUipcMemHandle;
typedef CUresult (*PFN_cuIpcGetMemHandle)(CUipcMemHandle *handle, CUdeviceptr dptr);
typedef CUresult (*PFN_cuIpcOpenMemHandle)(CUdeviceptr *pdptr, CUipcMemHandle handle, unsigned int flags);
typedef CUresult (*PFN_cuIpcCloseMemHandle)(CUdeviceptr dptr);
typedef CUresult (*PFN_cuMemsetD8Async)(CUdeviceptr dst, unsigned char value, size_t n, CUstream s);
typedef CUresult (*PFN_cuStreamCreate)(CUstream *s, unsigned int flags);
typedef CUresult (*PFN_cuStreamDestroy)(CUstream s);
typedef CUresult (*PFN_cuStreamSynchronize)(CUstream s);
typedef CUresult (*PFN_cuStreamQuery)(CUstream s);
typedef CUresult (*PFN_cuStreamWaitEvent)(CUstream s, CUevent e, unsigned int flags);
typedef CUresult (*PFN_cuStreamBeginCapture)(CUstream s, int mode);
typedef CUresult (*PFN_cuStreamEndCapture)(CUstream s, CUgraph *graph);
typedef CUresult (*PFN_cuEventCreate)(CUevent *e, unsigned int flags);
typedef CUresult (*PFN_cuEventDestroy)(CUevent e);
typedef CUresult (*PFN_cuEventRecord)(CUevent e, CUstream s);
typedef CUresult (*PFN_cuEventSynchronize)(CUevent e);
typedef CUresult (*PFN_cuEventElapsedTime)(float *ms, CUevent start, CUevent end);
typedef CUresult (*PFN_cuGraphInstantiateWithFlags)(CUgraphExec *exec, CUgraph graph, unsigned long long flags);
typedef CUresult (*PFN_cuGraphLaunch)(CUgraphExec exec, CUstream s);
typedef CUresult (*PFN_cuGraphExecDestroy)(CUgraphExec exec);
typedef CUresult (*PFN_cuGraphDestroy)(CUgraph graph);
typedef CUresult (*PFN_cuModuleLoadData)(CUmodule *module, const void *image);
typedef CUresult (*PFN_cuModuleUnload)(CUmodule module);
typedef CUresult (*PFN_cuModuleGetFunction)(CUfunction *fn, CUmodule module, const char *name);
typedef CUresult (*PFN_cuLaunchKernel)(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz,
                                       unsigned int bx, unsigned int by, unsigned int bz,
                                       unsigned int sharedMem, CUstream s, void **params, void **extra);
typedef CUresult (*PFN_cuLaunchCooperativeKernel)(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz,
                                                  unsigned int bx, unsigned int by, unsigned int bz,
                                                  unsigned int sharedMem, CUstream s, void **params);
typedef CUresult (*PFN_cuOccupancyMaxActiveBlocksPerMultiprocessor)(int *numBlocks, CUfunction f,
                                                                     int blockSize, size_t dynSmem);
typedef CUresult (*PFN_cuFuncSetAttribute)(CUfunction f, int attrib, int value);

// ---- NVRTC ----
typedef int nvrtcResult;
typedef struct _nvrtcProgram *nvrtcProgram;
typedef nvrtcResult (*PFN_nvrtcVersion)(int *major, int *minor);
typedef const char *(*PFN_nvrtcGetErrorString)(nvrtcResult r);
typedef nvrtcResult (*PFN_nvrtcCreateProgram)(nvrtcProgram *prog, const char *src, const char *name,
                                              int numHeaders, const char *const *headers,
                                              const char *const *includeNames);
typedef nvrtcResult (*PFN_nvrtcDestroyProgram)(nvrtcProgram *prog);
typedef nvrtcResult (*PFN_nvrtcCompileProgram)(nvrtcProgram prog, int numOptions, const char *const *options);
typedef nvrtcResult (*PFN_nvrtcGetSize)(nvrtcProgram prog, size_t *size);
typedef nvrtcResult (*PFN_nvrtcGetData)(nvrtcProgram prog, char *data);

// ---- nvJitLink ----
typedef int nvJitLinkResult;
typedef struct nvJitLink *nvJitLinkHandle;
typedef nvJitLinkResult (*PFN_nvJitLinkCreate)(nvJitLinkHandle *h, uint32_t numOptions, const char **options);
typedef nvJitLinkResult (*PFN_nvJitLinkDestroy)(nvJitLinkHandle *h);
typedef nvJitLinkResult (*PFN_nvJitLinkAddData)(nvJitLinkHandle h, int inputType, const void *data,
                                                 size_t size, const char *name);
typedef nvJitLinkResult (*PFN_nvJitLinkAddFile)(nvJitLinkHandle h, int inputType, const char *fileName);
typedef nvJitLinkResult (*PFN_nvJitLinkComplete)(nvJitLinkHandle h);
typedef nvJitLinkResult (*PFN_nvJitLinkGetLinkedCubinSize)(nvJitLinkHandle h, size_t *size);
typedef nvJitLinkResult (*PFN_nvJitLinkGetLinkedCubin)(nvJitLinkHandle h, void *cubin);
typedef nvJitLinkResult (*PFN_nvJitLinkGetErrorLogSize)(nvJitLinkHandle h, size_t *size);
typedef nvJitLinkResult (*PFN_nvJitLinkGetErrorLog)(nvJitLinkHandle h, char *log);
typedef nvJitLinkResult (*PFN_nvJitLinkVersion)(unsigned int *major, unsigned int *minor);

// ---- NCCL (nccl.h 2.x) ----
typedef int ncclResult_t;
typedef struct ncclComm *ncclComm_t;
typedef struct { char internal[128]; } ncclUniqueId;
typedef ncclResult_t (*PFN_ncclGetVersion)(int *version);
typedef ncclResult_t (*PFN_ncclGetUniqueId)(ncclUniqueId *uniqueId);
typedef ncclResult_t (*PFN_ncclCommInitRank)(ncclComm_t *comm, int nranks, ncclUniqueId commId, int rank);
typedef ncclResult_t (*PFN_ncclCommInitAll)(ncclComm_t *comms, int ndev, const int *devlist);
typedef ncclResult_t (*PFN_ncclCommSplit)(ncclComm_t comm, int color, int key, ncclComm_t *newcomm, void *config);
typedef ncclResult_t (*PFN_ncclCommFinalize)(ncclComm_t comm);
typedef ncclResult_t (*PFN_ncclCommDestroy)(ncclComm_t comm);
typedef ncclResult_t (*PFN_ncclCommAbort)(ncclComm_t comm);
typedef ncclResult_t (*PFN_ncclCommGetAsyncError)(ncclComm_t comm, ncclResult_t *asyncError);
typedef const char *(*PFN_ncclGetErrorString)(ncclResult_t result);
typedef const char *(*PFN_ncclGetLastError)(ncclComm_t comm);
typedef ncclResult_t (*PFN_ncclGroupStart)(void);
typedef ncclResult_t (*PFN_ncclGroupEnd)(void);
typedef ncclResult_t (*PFN_ncclAllReduce)(const void *sendbuff, void *recvbuff, size_t count, int datatype,
                                          int op, ncclComm_t comm, CUstream stream);
typedef ncclResult_t (*PFN_ncclReduce)(const void *sendbuff, void *recvbuff, size_t count, int datatype,
                                       int op, int root, ncclComm_t comm, CUstream stream);
typedef ncclResult_t (*PFN_ncclBroadcast)(const void *sendbuff, void *recvbuff, size_t count, int datatype,
                                          int root, ncclComm_t comm, CUstream stream);
typedef ncclResult_t (*PFN_ncclAllGather)(const void *sendbuff, void *recvbuff, size_t sendcount, int datatype,
                                          ncclComm_t comm, CUstream stream);
typedef ncclResult_t (*PFN_ncclReduceScatter)(const void *sendbuff, void *recvbuff, size_t recvcount, int datatype,
                                              int op, ncclComm_t comm, CUstream stream);
typedef ncclResult_t (*PFN_ncclAlltoAll)(const void *sendbuff, void *recvbuff, size_t count, int datatype,
                                         ncclComm_t comm, CUstream stream);
typedef ncclResult_t (*PFN_ncclGather)(const void *sendbuff, void *recvbuff, size_t sendcount, int datatype,
                                       int root, ncclComm_t comm, CUstream stream);
typedef ncclResult_t (*PFN_ncclScatter)(const void *sendbuff, void *recvbuff, size_t recvcount, int datatype,
                                        int root, ncclComm_t comm, CUstream stream);
typedef ncclResult_t (*PFN_ncclSend)(const void *sendbuff, size_t count, int datatype, int peer,
                                     ncclComm_t comm, CUstream stream);
typedef ncclResult_t (*PFN_ncclRecv)(void *recvbuff, size_t count, int datatype, int peer,
                                     ncclComm_t comm, CUstream stream);
typedef ncclResult_t (*PFN_ncclRedOpCreatePreMulSum)(int *op, void *scalar, int datatype, int residence,
                                                     ncclComm_t comm);
typedef ncclResult_t (*PFN_ncclRedOpDestroy)(int op, ncclComm_t comm);
typedef ncclResult_t (*PFN_ncclMemAlloc)(void **ptr, size_t size);
typedef ncclResult_t (*PFN_ncclMemFree)(void *ptr);
typedef ncclResult_t (*PFN_ncclCommRegister)(ncclComm_t comm, void *buff, size_t size, void **handle);
typedef ncclResult_t (*PFN_ncclCommDeregister)(ncclComm_t comm, void *handle);
typedef ncclResult_t (*PFN_ncclCommWindowRegister)(ncclComm_t comm, void *buff, size_t size, void **win, int winFlags);
typedef ncclResult_t (*PFN_ncclCommWindowDeregister)(ncclComm_t comm, void *win);

// ---- NVML ----
typedef int nvmlReturn_t;
typedef struct nvmlDevice_st *nvmlDevice_t;
typedef struct {
    char busIdLegacy[16];
    unsigned int domain, bus, device, pciDeviceId;
    unsigned int pciSubSystemId;
    char busId[32];
} nvmlPciInfo_t;
// nvmlFieldValue_t: 40 bytes, value union at offset 32.
typedef struct {
    unsigned int fieldId;
    unsigned int scopeId;
    long long timestamp;
    long long latencyUsec;
    int valueType;
    nvmlReturn_t nvmlReturn;
    unsigned long long value;
} nvmlFieldValue_t;
typedef nvmlReturn_t (*PFN_nvmlInit_v2)(void);
typedef nvmlReturn_t (*PFN_nvmlShutdown)(void);
typedef const char *(*PFN_nvmlErrorString)(nvmlReturn_t r);
typedef nvmlReturn_t (*PFN_nvmlSystemGetDriverVersion)(char *version, unsigned int length);
typedef nvmlReturn_t (*PFN_nvmlDeviceGetCount_v2)(unsigned int *count);
typedef nvmlReturn_t (*PFN_nvmlDeviceGetHandleByIndex_v2)(unsigned int index, nvmlDevice_t *device);
typedef nvmlReturn_t (*PFN_nvmlDeviceGetName)(nvmlDevice_t device, char *name, unsigned int length);
typedef nvmlReturn_t (*PFN_nvmlDeviceGetPciInfo_v3)(nvmlDevice_t device, nvmlPciInfo_t *pci);
typedef nvmlReturn_t (*PFN_nvmlDeviceGetUUID)(nvmlDevice_t device, char *uuid, unsigned int length);
typedef nvmlReturn_t (*PFN_nvmlDeviceGetNvLinkState)(nvmlDevice_t device, unsigned int link, int *isActive);
typedef nvmlReturn_t (*PFN_nvmlDeviceGetNvLinkRemotePciInfo_v2)(nvmlDevice_t device, unsigned int link, nvmlPciInfo_t *pci);
typedef nvmlReturn_t (*PFN_nvmlDeviceGetFieldValues)(nvmlDevice_t device, int count, nvmlFieldValue_t *values);
// PCIe link generation and width: nvmlDeviceGetCurrPcieLinkGeneration, ...Width,
// nvmlDeviceGetMaxPcieLinkGeneration, ...Width (device and system), all of this shape.
typedef nvmlReturn_t (*PFN_nvmlDeviceGetPcieLinkValue)(nvmlDevice_t device, unsigned int *value);
// NVML GPU Performance Monitoring (GPM, Hopper and later; optional symbols). nvmlGpmSample_t is an
// opaque handle in a one-pointer struct. nvmlGpmMetric_t: 40 bytes. nvmlGpmMetricsGet_t's array has
// NVML_GPM_METRIC_MAX entries (98 in CUDA 12.0 headers, 333 in CUDA 13); NVML reads numMetrics of
// them, so a larger array is safe for every version; version stays NVML_GPM_METRICS_GET_VERSION 1.
typedef struct { void *handle; } nvmlGpmSample_t;
typedef struct {
    unsigned int metricId;
    nvmlReturn_t nvmlReturn;
    double value;
    char *shortName, *longName, *unit;
} nvmlGpmMetric_t;
typedef struct {
    unsigned int version;
    unsigned int numMetrics;
    nvmlGpmSample_t sample1;
    nvmlGpmSample_t sample2;
    nvmlGpmMetric_t metrics[512];
} nvmlGpmMetricsGet_t;
typedef struct { unsigned int version; unsigned int isSupportedDevice; } nvmlGpmSupport_t;
typedef nvmlReturn_t (*PFN_nvmlGpmQueryDeviceSupport)(nvmlDevice_t device, nvmlGpmSupport_t *support);
typedef nvmlReturn_t (*PFN_nvmlGpmSampleAlloc)(nvmlGpmSample_t *sample);
typedef nvmlReturn_t (*PFN_nvmlGpmSampleFree)(nvmlGpmSample_t sample);
typedef nvmlReturn_t (*PFN_nvmlGpmSampleGet)(nvmlDevice_t device, nvmlGpmSample_t sample);
typedef nvmlReturn_t (*PFN_nvmlGpmMetricsGet)(nvmlGpmMetricsGet_t *metricsGet);


// ---- NVSHMEM host library (3.3–3.8). nvshmem_init/nvshmemx_init_attr are static inline in the
// headers and not exported: a dlopen host uses the unique-id bootstrap below. Layouts:
// nvshmemx_uniqueid_t 128 B; nvshmemx_init_attr_t 144 B {int version @0; void *mpi_comm @8;
// init_args @16 {int version @16; uid_args @24 {int version @24; uid* @32; int myrank @40; int nranks @44}}}.
typedef struct { char internal[128]; } nvshmemx_uniqueid_t;
typedef struct { char bytes[144]; } nvshmemx_init_attr_t;
typedef int (*PFN_nvshmemx_get_uniqueid)(nvshmemx_uniqueid_t *uid);
typedef int (*PFN_nvshmemx_set_attr_uniqueid_args)(int myrank, int nranks, const nvshmemx_uniqueid_t *uid,
                                                   nvshmemx_init_attr_t *attr);
typedef int (*PFN_nvshmemx_hostlib_init_attr)(unsigned int flags, nvshmemx_init_attr_t *attr);
typedef void (*PFN_nvshmemx_hostlib_finalize)(void);
typedef void *(*PFN_nvshmem_malloc)(size_t size);
typedef void (*PFN_nvshmem_free)(void *ptr);
typedef void *(*PFN_nvshmem_ptr)(const void *ptr, int pe);
typedef int (*PFN_nvshmem_my_pe)(void);
typedef int (*PFN_nvshmem_n_pes)(void);
typedef void (*PFN_nvshmem_barrier_all)(void);
typedef void (*PFN_nvshmemx_barrier_all_on_stream)(CUstream stream);
typedef int (*PFN_nvshmemx_alltoallmem_on_stream)(int team, void *dest, const void *source, size_t bytes, CUstream stream);
typedef int (*PFN_nvshmemx_cumodule_init)(CUmodule module);
typedef int (*PFN_nvshmemx_cumodule_finalize)(CUmodule module);
typedef void (*PFN_nvshmemx_vendor_get_version_info)(int *major, int *minor, int *patch);
typedef int (*PFN_nvshmemx_float_sum_reduce_on_stream)(int team, float *dest, const float *source, size_t nreduce,
                                                      CUstream stream);
typedef void (*PFN_nvshmemx_rma_on_stream)(void *dest, const void *source, size_t bytes, int pe, CUstream stream);
typedef void (*PFN_nvshmemx_quiet_on_stream)(CUstream stream);
_Static_assert(sizeof(nvshmemx_init_attr_t) == 144, "nvshmemx_init_attr_t layout");

_Static_assert(sizeof(nvmlFieldValue_t) == 40, "nvmlFieldValue_t layout");
_Static_assert(sizeof(nvmlGpmMetric_t) == 40, "nvmlGpmMetric_t layout");
_Static_assert(__builtin_offsetof(nvmlGpmMetricsGet_t, metrics) == 24, "nvmlGpmMetricsGet_t layout");
_Static_assert(sizeof(ncclUniqueId) == 128, "ncclUniqueId layout");

/// File name of the shared object holding `address`, or NULL (dladdr).
const char *cgpu_path_of_symbol(const void *address);

/// setvbuf(stdout, NULL, _IOLBF, 0): Swift 6 cannot name C's stdout safely.
void cgpu_line_buffer_stdout(void);

// Binds the pages of [addr, addr+len) to NUMA node `node` (mbind(2) with MPOL_BIND; the syscall
// is variadic in C and so not callable from Swift). Returns 0 or -errno. Defined in CGPU.c.
long cgpu_bind_to_numa_node(void *addr, unsigned long len, int node);

#endif
