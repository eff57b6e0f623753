/* bfloat16 for the CPU emulation (include/cuda_emu.h): __nv_bfloat16 holds
 * the upper 16 bits of a float; conversion from float rounds to nearest,
 * ties to even, as __float2bfloat16 does on the GPU (NaN stays NaN). */
#pragma once
#include <cstdint>
#include <cstring>
struct __nv_bfloat16 { uint16_t bits; };
inline __nv_bfloat16 __float2bfloat16(float x)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    __nv_bfloat16 h;
    if ((u & 0x7fffffffu) > 0x7f800000u)
        h.bits = (uint16_t)((u >> 16) | 0x40);   /* quiet NaN */
    else
        h.bits = (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
    return h;
}
inline float __bfloat162float(__nv_bfloat16 h)
{
    uint32_t u = (uint32_t)h.bits << 16;
    float x;
    memcpy(&x, &u, 4);
    return x;
}
