#!/usr/bin/env python3
"""Rewrites a .cu file for the CPU emulation (include/cuda_emu.h): each
kernel<<<grid, block[, smem]>>>(args); becomes a call that runs the kernel's
threads, and the dynamic shared memory array points at the emulation's.
usage: launch.py IN.cu OUT.cpp"""
import re,sys
s=open(sys.argv[1]).read()
s=re.sub(r'extern __shared__ (__align__\(\d+\) )?float smem\[\];','float *smem = emu_dyn_smem;',s)
out=[];i=0
while True:
    j=s.find('<<<',i)
    if j<0: out.append(s[i:]); break
    # kernel name before
    m=re.search(r'(\w+)\s*$',s[:j]); name=m.group(1); start=m.start(1)
    k=s.find('>>>',j); cfg=s[j+3:k]
    # args: from '(' after >>> to matching ')'
    p=k+3; assert s[p]=='('; depth=0; q=p
    while True:
        if s[q]=='(': depth+=1
        elif s[q]==')':
            depth-=1
            if depth==0: break
        q+=1
    args=s[p+1:q]
    out.append(s[i:start]); out.append('emu_cfg_pick(%s, [=]() { %s(%s); })'%(cfg,name,args))
    i=q+1
open(sys.argv[2],'w').write(''.join(out))
